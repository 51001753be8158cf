// An organization's "require 2FA": whether an account still has to set up a second factor for one
// of its organizations. Asked at every authorization after login (sign-in-checks.ts) and on every
// account page (two-factor-gate.ts), so `pending` is one indexed query. "2FA on" is what the login
// flow means by it (login/second-step.ts `required`): an enrolled second_factors row — backup codes
// alone are not a way in. A blocked membership does not bind: it opens nothing while blocked.
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { memberships, organizations } from '../db/schema.ts';

export function createTwoFactorPolicy(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** True while an organization of the account requires 2FA and the account has none. */
    async pending(accountId: string): Promise<boolean> {
      const res = await db.execute(sql`
        SELECT EXISTS (
          SELECT 1 FROM memberships m JOIN organizations o ON o.id = m.organization_id
          WHERE m.account_id = ${accountId} AND m.blocked_at IS NULL AND o.require_2fa
        ) AND NOT EXISTS (SELECT 1 FROM second_factors f WHERE f.account_id = ${accountId}) AS pending`);
      return (res as unknown as { rows: { pending: boolean }[] }).rows[0]?.pending === true;
    },
    /** The organizations that require it of the account, with its role in each (for the pages that
     *  explain why, and offer an external user to leave instead). */
    async requiring(accountId: string) {
      return db
        .select({ id: organizations.id, name: organizations.name, role: memberships.role })
        .from(memberships)
        .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
        .where(
          and(eq(memberships.accountId, accountId), isNull(memberships.blockedAt), eq(organizations.require2fa, true)),
        )
        .orderBy(asc(organizations.name), asc(organizations.id));
    },
  };
}
export type TwoFactorPolicy = ReturnType<typeof createTwoFactorPolicy>;
