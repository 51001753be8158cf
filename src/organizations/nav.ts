// The sections of one organization's pages, as far as the actor's role lets them in (the routes
// check the same policy functions: a link not shown is also a page refused).
import type { OrgCtx } from './context.ts';
import { canListMembers, canManageMembers, canSetPolicy } from './policy.ts';

export type OrgSection = 'overview' | 'members' | 'teams' | 'invitations' | 'security';

/** Data for views/org/partials-org-nav.eta: pass as `orgNav` to renderPage. */
export function orgNav(ctx: OrgCtx, current: OrgSection) {
  const { role, organization } = ctx.state;
  const base = `/account/organizations/${organization.id}`;
  const sections: Array<{ id: OrgSection; href: string; shown: boolean }> = [
    { id: 'overview', href: base, shown: true },
    { id: 'members', href: `${base}/members`, shown: canListMembers(role) },
    { id: 'teams', href: `${base}/teams`, shown: canManageMembers(role) },
    { id: 'invitations', href: `${base}/invitations`, shown: canManageMembers(role) },
    { id: 'security', href: `${base}/security`, shown: canSetPolicy(role) },
  ];
  return sections.filter((s) => s.shown).map(({ id, href }) => ({ id, href, current: id === current }));
}
