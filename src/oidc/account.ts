// findAccount + claims. Only a verified email is released (relying parties link accounts by it).
import type { FindAccount, Account as OidcAccount } from 'oidc-provider';
import type { AccountsRepo } from '../db/repositories/accounts.ts';

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
          name: account.name,
          given_name: account.givenName ?? undefined,
          family_name: account.familyName ?? undefined,
          locale: account.locale,
          zoneinfo: account.zoneinfo,
        };
      },
    };
  };
}
