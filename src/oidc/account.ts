// findAccount + claims. Only confirmed accounts exist for relying parties (they link accounts by the
// email, so an unconfirmed one must never reach them).
import type { FindAccount, Account as OidcAccount } from 'oidc-provider';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';

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

export function createFindAccount(accounts: AccountsRepo): FindAccount {
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
      async claims() {
        return {
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
