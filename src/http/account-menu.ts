// The menu every account page shows: one entry per section, the section being viewed marked for
// assistive technology (aria-current). "page" is the section's own page; "true" a page inside it
// (changing the password is inside Profile).

/** One organization of the account, as the switcher shows it. */
export interface OrganizationChoice {
  id: string;
  name: string;
  type: 'personal' | 'company' | 'association';
  role: 'legal_representative' | 'administrator' | 'collaborator' | 'external';
  blocked: boolean;
}

/** What every account page knows about the account's organizations (organizations/context.ts sets
 *  it on ctx.state.organizations): the switcher's list and the current one. */
export interface OrganizationsView {
  list: OrganizationChoice[];
  /** The remembered choice while the account is still a member of it, else the first. */
  current: OrganizationChoice | undefined;
}

export interface MenuItem {
  id: string;
  href: string;
  /** Catalog key of the entry's label. */
  label: string;
  current?: 'page' | 'true';
}

const SECTIONS: Array<Omit<MenuItem, 'current'> & { also?: string[] }> = [
  { id: 'profile-link', href: '/account/profile', label: 'profile.title' },
  { id: 'security-link', href: '/account/security', label: 'security.title', also: ['/account/compromised'] },
  { id: 'sessions-link', href: '/account/sessions', label: 'sessions.title' },
  { id: 'activity-link', href: '/account/activity', label: 'activity.title' },
  { id: 'applications-link', href: '/account/applications', label: 'apps.title' },
  { id: 'organizations-link', href: '/account/organizations', label: 'org.all' },
];

/** The menu for a page of the signed-in account at `path`, or none outside the account pages. */
export function accountMenu(path: string): MenuItem[] | undefined {
  if (path !== '/account' && !path.startsWith('/account/')) return undefined;
  const within = (base: string) => path === base || path.startsWith(`${base}/`);
  const items: MenuItem[] = SECTIONS.map(({ also, ...item }) => {
    if (path === item.href) return { ...item, current: 'page' };
    return [item.href, ...(also ?? [])].some(within) ? { ...item, current: 'true' } : item;
  });
  // Signing out is a link to the end-session page, which asks before it ends anything.
  items.push({ id: 'logout-link', href: '/logout', label: 'account.logout' });
  return items;
}
