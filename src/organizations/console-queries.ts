// The security console's reads and writes over memberships and organizations: each change is one
// conditional UPDATE … RETURNING, so two admins clicking at once change (and log, and email) once.
import { and, asc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { accounts, memberships, organizations, type Account, type Membership, type Role } from '../db/schema.ts';
import { legalRepCount, lockedMemberships } from '../db/repositories/organizations.ts';
import { effectiveRole, type Actor } from './policy.ts';

/** The member's account has no enrolled second factor (what "2FA on" means: two-factor-policy.ts). */
const no2fa = sql`NOT EXISTS (SELECT 1 FROM second_factors f WHERE f.account_id = ${memberships.accountId})`;

export function createConsoleQueries(db: Db) {
  return {
    /** Turns "require 2FA" on or off; false when it already was so. */
    async setRequire2fa(organizationId: string, on: boolean): Promise<boolean> {
      const rows = await db
        .update(organizations)
        .set({ require2fa: on })
        .where(and(eq(organizations.id, organizationId), eq(organizations.require2fa, !on)))
        .returning({ id: organizations.id });
      return rows.length === 1;
    },
    /** The members (not blocked) without a second factor, with their accounts (for the emails). */
    async membersWithout2fa(organizationId: string): Promise<Account[]> {
      const rows = await db
        .select({ account: accounts })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(and(eq(memberships.organizationId, organizationId), isNull(memberships.blockedAt), no2fa))
        .orderBy(asc(accounts.email));
      return rows.map((r) => r.account);
    },
    /** One member of this organization with their account; undefined for anyone else (404). */
    async member(
      organizationId: string,
      accountId: string,
    ): Promise<{ membership: Membership; account: Account } | undefined> {
      if (!/^[0-9a-f-]{36}$/i.test(accountId)) return undefined;
      const [row] = await db
        .select({ membership: memberships, account: accounts })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(and(eq(memberships.organizationId, organizationId), eq(memberships.accountId, accountId)))
        .limit(1);
      return row;
    },
    /** Blocks or unblocks if `allowed(actor, target, legalReps)` says so, decided under the
     *  organization's lock on what the memberships are then (as setRole and removeMember do): two
     *  legal representatives blocking each other at once cannot both succeed, the second being
     *  blocked already when its turn comes. 'unchanged' when the member already was so. */
    async setBlocked(
      change: { organizationId: string; actorId: string; accountId: string; blocked: boolean },
      allowed: (actor: Actor, target: Role, legalReps: number) => boolean,
    ): Promise<'done' | 'unchanged' | 'refused' | 'not_member'> {
      const { organizationId, actorId, accountId, blocked } = change;
      return db.transaction(async (t) => {
        const tx = t as unknown as Db;
        const rows = await lockedMemberships(tx, organizationId);
        const target = rows.find((r) => r.accountId === accountId);
        if (!target) return 'not_member';
        const actor = effectiveRole(rows.find((r) => r.accountId === actorId));
        if (!allowed(actor, target.role, legalRepCount(rows, accountId))) return 'refused';
        const one = and(eq(memberships.organizationId, organizationId), eq(memberships.accountId, accountId));
        const changed = await tx
          .update(memberships)
          .set({ blockedAt: blocked ? sql`now()` : null })
          .where(and(one, blocked ? isNull(memberships.blockedAt) : isNotNull(memberships.blockedAt)))
          .returning({ accountId: memberships.accountId });
        return changed.length === 1 ? 'done' : 'unchanged';
      });
    },
    /** An external user leaves an organization (the 2FA prompt's other way out); false when the
     *  account is not an external member of it. Grants and team places go with the row (cascade). */
    async leaveAsExternal(organizationId: string, accountId: string): Promise<boolean> {
      if (!/^[0-9a-f-]{36}$/i.test(organizationId)) return false;
      const rows = await db
        .delete(memberships)
        .where(
          and(
            eq(memberships.organizationId, organizationId),
            eq(memberships.accountId, accountId),
            eq(memberships.role, 'external'),
          ),
        )
        .returning({ accountId: memberships.accountId });
      return rows.length === 1;
    },
  };
}
export type ConsoleQueries = ReturnType<typeof createConsoleQueries>;
