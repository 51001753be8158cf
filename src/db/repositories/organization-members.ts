// The organizations repository's member pages and changes that must hold under concurrency:
// listing members with what the console shows of each (one query), a member going (removed or
// leaving) under the same organization lock as a role change, editing and deleting an organization.
// Spread into the organizations repository (organizations.ts).
import { and, asc, eq, ilike, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { accounts, memberships, organizations, type Organization, type Role } from '../schema.ts';
import {
  insertOrganization,
  legalRepCount,
  personalOrganizationName,
  type OrganizationInput,
} from './organizations.ts';

/** The members list's filters (organizations/member-filters.ts validates them). */
export interface MemberFilter {
  /** Part of the email or the name. */
  q?: string;
  role?: Role;
  twofa?: 'on' | 'off';
  state?: 'blocked' | 'locked';
  /** One member, by the account's integer id (the API's user_id). */
  userId?: number;
}

export interface MemberRow {
  accountId: string;
  /** The account's integer id (the API's user_id). */
  userId: number;
  email: string;
  name: string;
  locale: string;
  role: Role;
  blockedAt: Date | null;
  lockedAt: Date | null;
  joinedAt: Date;
  /** Second factors enrolled (2FA on when > 0). */
  factors: number;
  /** The latest sign_in in the member's activity. */
  lastSignInAt: Date | null;
}

/** How a member's going ended. */
export type MemberGone =
  | { ok: true; role: Role; /** A personal organization was made: it was their only one. */ madePersonal: boolean }
  | { ok: false; reason: 'not_member' | 'refused' | 'only_organization'; role?: Role };

/** How deleting an organization ended. */
export type OrganizationDeleted =
  { ok: true } | { ok: false; reason: 'refused' | 'only_organization'; members: number; applications: number };

/** An organization whose last legal representative an account is, that would be left without one. */
export interface Stranded {
  id: string;
  name: string;
  members: number;
  applications: number;
}

/** A LIKE pattern matching `text` anywhere, its own % and _ taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
const rowsOf = <T>(res: unknown) => (res as { rows: T[] }).rows;
const dateOrNull = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export function memberQueries(db: Db) {
  /** Locks the organization row (as setRole does) and then the account's: every change to who is in
   *  an organization, and to which organizations an account is in, waits for the other. */
  async function lock(tx: Db, organizationId: string, accountId?: string) {
    await tx.execute(sql`SELECT id FROM organizations WHERE id = ${organizationId} FOR UPDATE`);
    if (accountId) await tx.execute(sql`SELECT id FROM accounts WHERE id = ${accountId} FOR UPDATE`);
  }
  async function membershipCount(tx: Db, accountId: string): Promise<number> {
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(memberships)
      .where(eq(memberships.accountId, accountId));
    return row?.n ?? 0;
  }

  return {
    /** Members with their 2FA state and last sign-in, filtered, in one query (no query per member). */
    async memberList(organizationId: string, f: MemberFilter = {}): Promise<MemberRow[]> {
      const factors = sql<number>`(SELECT count(*)::int FROM second_factors sf WHERE sf.account_id = ${memberships.accountId})`;
      const lastSignIn = sql<unknown>`(SELECT max(ac.at) FROM activity ac WHERE ac.account_id = ${memberships.accountId} AND ac.type = 'sign_in')`;
      // Locked: the account, or one of its own browsers (a member who mistyped in their usual
      // browser is locked out there only, and needs the unlock as much: lockout.ts).
      const locked = sql<unknown>`COALESCE(${accounts.lockedAt}, (SELECT max(td.locked_at) FROM trusted_devices td WHERE td.account_id = ${memberships.accountId}))`;
      const conditions: (SQL | undefined)[] = [eq(memberships.organizationId, organizationId)];
      if (f.q) conditions.push(or(ilike(accounts.email, containing(f.q)), ilike(accounts.name, containing(f.q))));
      if (f.role) conditions.push(eq(memberships.role, f.role));
      if (f.twofa === 'on') conditions.push(sql`${factors} > 0`);
      if (f.twofa === 'off') conditions.push(sql`${factors} = 0`);
      if (f.state === 'blocked') conditions.push(isNotNull(memberships.blockedAt));
      if (f.state === 'locked') conditions.push(sql`${locked} IS NOT NULL`);
      if (f.userId !== undefined) conditions.push(eq(accounts.userId, f.userId));
      const rows = await db
        .select({
          accountId: memberships.accountId,
          userId: accounts.userId,
          email: accounts.email,
          name: accounts.name,
          locale: accounts.locale,
          role: memberships.role,
          blockedAt: memberships.blockedAt,
          lockedAt: locked,
          joinedAt: memberships.createdAt,
          factors,
          lastSignInAt: lastSignIn,
        })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(and(...conditions))
        .orderBy(asc(memberships.createdAt), asc(accounts.email));
      return rows.map((r) => ({
        ...r,
        factors: Number(r.factors),
        lockedAt: dateOrNull(r.lockedAt),
        lastSignInAt: dateOrNull(r.lastSignInAt),
      }));
    },

    /** Takes a member out if `allowed(role, legalRepCount)` says so, under the organization's lock
     *  (two legal representatives going at once cannot both see the other one stay). An account
     *  must stay in an organization: `ifLast` 'refuse' (leaving one's only organization) or
     *  'personal' (an administrator removed them from their only one: they get a personal one). */
    async removeMember(
      organizationId: string,
      accountId: string,
      allowed: (role: Role, legalRepCount: number) => boolean,
      ifLast: 'refuse' | 'personal',
    ): Promise<MemberGone> {
      return db.transaction(async (t) => {
        const tx = t as unknown as Db;
        await lock(tx, organizationId, accountId);
        const rows = await tx
          .select({ accountId: memberships.accountId, role: memberships.role, blockedAt: memberships.blockedAt })
          .from(memberships)
          .where(eq(memberships.organizationId, organizationId));
        const role = rows.find((r) => r.accountId === accountId)?.role;
        if (!role) return { ok: false, reason: 'not_member' } as const;
        const legalReps = legalRepCount(rows, accountId);
        if (!allowed(role, legalReps)) return { ok: false, reason: 'refused', role } as const;
        const last = (await membershipCount(tx, accountId)) <= 1;
        if (last && ifLast === 'refuse') return { ok: false, reason: 'only_organization', role } as const;
        await tx
          .delete(memberships)
          .where(and(eq(memberships.organizationId, organizationId), eq(memberships.accountId, accountId)));
        if (last) {
          const [account] = await tx.select().from(accounts).where(eq(accounts.id, accountId)).limit(1);
          if (account)
            await insertOrganization(tx, { name: personalOrganizationName(account), type: 'personal' }, accountId);
        }
        return { ok: true, role, madePersonal: last } as const;
      });
    },

    async update(organizationId: string, input: OrganizationInput): Promise<Organization | undefined> {
      const [row] = await db
        .update(organizations)
        .set({ name: input.name, type: input.type, address: input.address ?? null, phone: input.phone ?? null })
        .where(eq(organizations.id, organizationId))
        .returning();
      return row;
    },

    /** Deletes the organization if `allowed(memberCount, appCount)` says so, counted under its lock
     *  (nobody joins and no application is registered meanwhile), and never the actor's only
     *  organization. Memberships, teams and grants go with it; no account does. */
    async deleteOrganization(
      organizationId: string,
      actorId: string,
      allowed: (memberCount: number, appCount: number) => boolean,
    ): Promise<OrganizationDeleted> {
      return db.transaction(async (t) => {
        const tx = t as unknown as Db;
        await lock(tx, organizationId, actorId);
        const [counts] = rowsOf<{ members: number; applications: number }>(
          await tx.execute(sql`
            SELECT (SELECT count(*)::int FROM memberships WHERE organization_id = ${organizationId}) AS members,
                   (SELECT count(*)::int FROM applications WHERE organization_id = ${organizationId}) AS applications`),
        );
        const members = Number(counts?.members ?? 0);
        const applications = Number(counts?.applications ?? 0);
        if (!allowed(members, applications)) return { ok: false, reason: 'refused', members, applications } as const;
        if ((await membershipCount(tx, actorId)) <= 1)
          return { ok: false, reason: 'only_organization', members, applications } as const;
        await tx.delete(organizations).where(eq(organizations.id, organizationId));
        return { ok: true } as const;
      });
    },

    strandedBy: (accountId: string) => strandedIn(db, accountId),
  };
}

/** The organizations `accountId` is the last legal representative (who can act) of and that still
 *  have another member or an application: deleting the account would leave them with nobody in
 *  charge. Inside a transaction that locked them (accounts.ts delete) the answer holds until commit. */
export async function strandedIn(db: Db, accountId: string): Promise<Stranded[]> {
  const res = await db.execute(sql`
    SELECT o.id, o.name,
           (SELECT count(*)::int FROM memberships m WHERE m.organization_id = o.id) AS members,
           (SELECT count(*)::int FROM applications a WHERE a.organization_id = o.id) AS applications
    FROM organizations o
    JOIN memberships me ON me.organization_id = o.id AND me.account_id = ${accountId}
      AND me.role = 'legal_representative'
    WHERE NOT EXISTS (SELECT 1 FROM memberships l WHERE l.organization_id = o.id
                      AND l.account_id <> ${accountId} AND l.role = 'legal_representative'
                      AND l.blocked_at IS NULL)
    ORDER BY o.created_at, o.id`);
  return rowsOf<Stranded>(res)
    .map((r) => ({ ...r, members: Number(r.members), applications: Number(r.applications) }))
    .filter((r) => r.members > 1 || r.applications > 0);
}
