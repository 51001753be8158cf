// findAccount + claims. Only a verified email is released (relying parties link accounts by it).
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

export function createFindAccount(accounts: AccountsRepo): FindAccount {
  return async (_ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await accounts.findById(sub);
    if (!account) return undefined;
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          ...(account.emailVerified ? { email: account.email, email_verified: true } : { email_verified: false }),
          ...nameClaims(account),
          locale: account.locale,
          zoneinfo: account.zoneinfo,
        };
      },
    };
  };
}
