// findAccount + claims. Only confirmed accounts exist for relying parties (they link accounts by the
// email, so an unconfirmed one must never reach them).
import type { FindAccount, Account as OidcAccount } from 'oidc-provider';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { Role } from '../db/schema.ts';

/** The scope, and the claim it releases: each organization the user belongs to and is not blocked
 *  in, as { id, name, role } (role: legal_representative, administrator, collaborator, external),
 *  for a site to map roles. */
export const ORGANIZATIONS_SCOPE = 'organizations';

export interface OrganizationClaim {
  id: string;
  name: string;
  role: Role;
}

/** Where the claim's content comes from (the organizations repository: listForAccount). */
export interface OrganizationsSource {
  listForAccount(
    accountId: string,
  ): Promise<Array<{ organization: { id: string; name: string }; membership: { role: Role; blockedAt: Date | null } }>>;
}

/** Whether the claim is asked for: the scope, or the claim named in the claims parameter. */
function wantsOrganizations(scope: unknown, claims: unknown): boolean {
  if (typeof scope === 'string' && scope.split(' ').includes(ORGANIZATIONS_SCOPE)) return true;
  return !!claims && typeof claims === 'object' && Object.hasOwn(claims, ORGANIZATIONS_SCOPE);
}

/** name, given_name and family_name, always all three: TYPO3 reads given_name and family_name and
 *  WordPress reads name with no fallback (an absent key breaks them). Accounts made before both
 *  names were required get theirs from the full name (the given name is its first word); a part
 *  that is truly unknown is an empty string. */
export function nameClaims(a: Pick<Account, 'name' | 'givenName' | 'familyName'>) {
  const full = a.name.trim();
  const given_name = a.givenName ?? full.split(/\s+/)[0] ?? '';
  const family_name = a.familyName ?? (full.startsWith(given_name) ? full.slice(given_name.length).trim() : '');
  return { name: full || `${given_name} ${family_name}`.trim(), given_name, family_name };
}

/** The routes that load the session's account to decide the prompt. */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'resume', 'pushed_authorization_request']);

/** A session's account whose address is not confirmed (findAccount found it for the prompt). */
export function isUnconfirmed(account: unknown): boolean {
  return !!account && typeof account === 'object' && (account as { confirmed?: boolean }).confirmed === false;
}

export function createFindAccount(accounts: AccountsRepo, organizations?: OrganizationsSource): FindAccount {
  /** Read only when asked for: most tokens and userinfo calls do not ask, and pay nothing. */
  async function organizationClaim(accountId: string): Promise<OrganizationClaim[]> {
    const rows = (await organizations?.listForAccount(accountId)) ?? [];
    return rows
      .filter((r) => !r.membership.blockedAt)
      .map((r) => ({ id: r.organization.id, name: r.organization.name, role: r.membership.role }));
  }

  return async (ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await accounts.findById(sub);
    if (!account) return undefined;
    // An account whose address is not confirmed is no account to a relying party: a session or a
    // token it got before confirming was required is worth nothing. Tokens and userinfo find no
    // account; at /authorize (where oidc-provider cannot take "no account" for a session's) it is
    // found unconfirmed, and the login prompt's `unconfirmed_account` check asks for a sign-in,
    // which login/finish.ts refuses until the address is confirmed.
    const route = (ctx as { oidc?: { route?: string } } | undefined)?.oidc?.route;
    if (!account.emailVerified && !AUTHORIZATION_ROUTES.has(route ?? '')) return undefined;
    return {
      accountId: account.id,
      confirmed: account.emailVerified,
      async claims(_use, scope, claims) {
        return {
          ...(wantsOrganizations(scope, claims) ? { [ORGANIZATIONS_SCOPE]: await organizationClaim(account.id) } : {}),
          sub: account.id,
          ...(account.emailVerified ? { email: account.email, email_verified: true } : {}),
          ...nameClaims(account),
          locale: account.locale,
          zoneinfo: account.zoneinfo,
        };
      },
    };
  };
}
