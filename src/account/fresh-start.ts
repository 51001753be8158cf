// The first proof that someone controls an address nobody had verified (a password reset through a
// link sent to it): whatever was set on the account before belongs to whoever signed up with that
// address, perhaps an attacker who hoped its owner would adopt the account later ("pre-account
// hijacking"). So everything they could have left behind goes — sessions and grants with every
// token issued under them, second factors and linked devices, backup codes, recovery contacts,
// applications, known devices, open links — and the address is marked verified. The caller sets the
// new password.
import type Provider from 'oidc-provider';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { oidcPayloads, DEFAULT_LOCKOUT_THRESHOLD } from '../db/schema.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { ApplicationsRepo } from '../db/repositories/applications.ts';
import type { KnownDevicesRepo } from '../db/repositories/known-devices.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { TrustedDevicesRepo } from '../db/repositories/trusted-devices.ts';
import type { ApiTokensRepo } from '../db/repositories/api-tokens.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { ApplicationsService } from './applications-service.ts';
import type { SecurityService } from './security-service.ts';
import { revokeGrant, type Sessions } from './sessions.ts';

export function createFreshStart(deps: {
  db: Db;
  provider: Provider;
  repos: {
    accounts: AccountsRepo;
    applications: ApplicationsRepo;
    knownDevices: KnownDevicesRepo;
    oneTimeTokens: OneTimeTokensRepo;
    trustedDevices: TrustedDevicesRepo;
    apiTokens: ApiTokensRepo;
  };
  sessions: Sessions;
  security: SecurityService;
  applications: ApplicationsService;
}) {
  const { db, provider, repos } = deps;

  /** Grants not tied to a live session (refresh tokens outlive sessions), with their tokens. */
  async function revokeGrants(accountId: string) {
    const grants = await db
      .select({ id: oidcPayloads.id })
      .from(oidcPayloads)
      .where(and(eq(oidcPayloads.model, 'Grant'), sql`${oidcPayloads.payload}->>'accountId' = ${accountId}`));
    for (const { id } of grants) await revokeGrant(provider, id);
    await db.delete(oidcPayloads).where(sql`${oidcPayloads.payload}->>'accountId' = ${accountId}`);
  }

  return {
    /** For an account whose address was never verified, once its owner proved control of it.
     *  Returns how many app passwords (made by whoever signed up) it revoked. */
    async wipe(a: Account, info: RequestInfo): Promise<{ appPasswordsRevoked: number }> {
      await deps.sessions.endAll(a.id, undefined);
      await revokeGrants(a.id);
      const { appPasswordsRevoked } = await deps.security.disable(a, info);
      for (const app of await repos.applications.listByOwner(a.id)) await deps.applications.delete(app);
      // Whoever signed up may have weakened the protection settings: back to the defaults.
      await repos.accounts.update(a.id, {
        recoveryEmail: null,
        recoveryPhone: null,
        recoveryPhoneHash: null,
        lockoutThreshold: DEFAULT_LOCKOUT_THRESHOLD,
        alertEverySignIn: false,
        alertFailedPassword: false,
      });
      await repos.knownDevices.forgetAll(a.id);
      await repos.trustedDevices.forgetAll(a.id);
      await repos.oneTimeTokens.voidAll(a.id);
      // Whoever held the account before may have made API tokens (none can be made while unconfirmed).
      await repos.apiTokens.deleteAll(a.id);
      await repos.accounts.markEmailVerified(a.id, a.email);
      return { appPasswordsRevoked };
    },
  };
}
export type FreshStart = ReturnType<typeof createFreshStart>;
