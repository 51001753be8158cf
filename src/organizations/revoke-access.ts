// Taking a member's access to an organization's applications away (blocked, removed): every grant
// the account holds for one of those applications goes with every token and code issued under it,
// relying parties with a back-channel logout URI are told, and the account's browser sessions
// forget those applications — the same browser stays signed in to Sesame and to other
// organizations' applications. The next sign-in to the organization's applications is refused by
// the sign-in checks (organizations/sign-in-checks.ts), not by what was deleted here.
import type Provider from 'oidc-provider';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { applications, oidcPayloads } from '../db/schema.ts';
import type { SessionInfoRepo } from '../db/repositories/session-info.ts';
import type { Logger } from '../lib/logger.ts';
import { revokeGrant } from '../account/sessions.ts';

type BackchannelClient = { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> };

export function createAccessRevoker(deps: {
  db: Db;
  provider: Provider;
  repos: { sessionInfo: SessionInfoRepo };
  logger: Logger;
}) {
  const { db, provider } = deps;

  return {
    /** Revokes what `accountId` holds for the applications of `organizationId`; the number of
     *  grants revoked. */
    async revokeMemberAccess(accountId: string, organizationId: string): Promise<number> {
      const clientIds = (
        await db
          .select({ clientId: applications.clientId })
          .from(applications)
          .where(eq(applications.organizationId, organizationId))
      ).map((r) => r.clientId);
      if (!clientIds.length) return 0;
      const wanted = new Set(clientIds);

      // Browser sessions: tell the relying party, forget the application in the session.
      for (const s of await deps.repos.sessionInfo.live(accountId)) {
        const dropped = Object.entries(s.authorizations).filter(([clientId]) => wanted.has(clientId));
        if (!dropped.length) continue;
        for (const [clientId, auth] of dropped) {
          const client = (await provider.Client.find(clientId)) as unknown as BackchannelClient | undefined;
          if (client?.backchannelLogoutUri && auth.sid)
            await client
              .backchannelLogout(accountId, auth.sid)
              .catch((err: unknown) => deps.logger.warn({ err: String(err), clientId }, 'back-channel logout failed'));
        }
        let path = sql`${oidcPayloads.payload}`;
        for (const [clientId] of dropped) path = sql`(${path}) #- ARRAY['authorizations', ${clientId}::text]`;
        await db
          .update(oidcPayloads)
          .set({ payload: path })
          .where(and(eq(oidcPayloads.model, 'Session'), eq(oidcPayloads.id, s.jti)));
      }

      // Every grant of the account for those applications (refresh tokens outlive sessions).
      const grants = await db
        .select({ id: oidcPayloads.id })
        .from(oidcPayloads)
        .where(
          and(
            eq(oidcPayloads.model, 'Grant'),
            sql`${oidcPayloads.payload}->>'accountId' = ${accountId}`,
            inArray(sql`${oidcPayloads.payload}->>'clientId'`, clientIds),
          ),
        );
      for (const { id } of grants) await revokeGrant(provider, id);
      return grants.length;
    },
  };
}
export type AccessRevoker = ReturnType<typeof createAccessRevoker>;
