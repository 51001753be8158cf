// Switching "members only" on: the sign-in check refuses outsiders from the next authorization, and
// what outsiders already hold for the application — their grants, with every refresh token, access
// token and code issued under them — is revoked here, so that a site cannot keep refreshing an
// outsider's tokens. Blocked members lose theirs when they are blocked (revoke-access.ts).
import type Provider from 'oidc-provider';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { oidcPayloads } from '../db/schema.ts';
import { revokeGrant } from '../account/sessions.ts';

export function createOutsiderRevoker(deps: { db: Db; provider: Provider }) {
  return {
    /** Revokes the grants for `clientId` of accounts that are not members of `organizationId`;
     *  how many. */
    async revokeOutsiders(clientId: string, organizationId: string): Promise<number> {
      const grants = await deps.db
        .select({ id: oidcPayloads.id })
        .from(oidcPayloads)
        .where(
          and(
            eq(oidcPayloads.model, 'Grant'),
            sql`${oidcPayloads.payload}->>'clientId' = ${clientId}`,
            sql`NOT EXISTS (SELECT 1 FROM memberships m
                WHERE m.organization_id = ${organizationId} AND m.account_id::text = ${oidcPayloads.payload}->>'accountId')`,
          ),
        );
      for (const { id } of grants) await revokeGrant(deps.provider, id);
      return grants.length;
    },
  };
}
