import crypto from 'node:crypto';
import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  accounts,
  applications,
  memberships,
  organizations,
  type Account,
  type Membership,
  type Organization,
  type OrganizationType,
  type Role,
} from '../schema.ts';
import { memberQueries } from './organization-members.ts';

export type { Organization, Membership, OrganizationType, Role };

/** Where applications registered from the command line without --org go (migration 0010 made it
 *  for those registered before organizations): an organization with no member. */
export const OPERATOR_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000000';

export interface OrganizationInput {
  name: string;
  type: OrganizationType;
  address?: string | null;
  phone?: string | null;
}

/** A personal organization is named after its person: first and last name, else the display
 *  name, else the email's local part (migration 0010 names existing accounts' the same way). */
export function personalOrganizationName(
  account: Pick<Account, 'givenName' | 'familyName' | 'name' | 'email'>,
): string {
  const full = [account.givenName?.trim(), account.familyName?.trim()].filter(Boolean).join(' ');
  return full || account.name.trim() || (account.email.split('@')[0] ?? account.email);
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** Inserts an organization and, if given, its first member as legal representative — inside the
 *  caller's transaction (an account and its personal organization are made together). */
export async function insertOrganization(
  tx: Db,
  input: OrganizationInput,
  legalRepId: string | null,
): Promise<Organization> {
  const [org] = await tx
    .insert(organizations)
    .values({
      id: crypto.randomUUID(),
      name: input.name,
      type: input.type,
      address: input.address ?? null,
      phone: input.phone ?? null,
    })
    .returning();
  if (!org) throw new Error('organizations: insert returned no row');
  if (legalRepId)
    await tx
      .insert(memberships)
      .values({ organizationId: org.id, accountId: legalRepId, role: 'legal_representative' });
  return org;
}

/** The legal-representative count the policy functions take for a change to `accountId`: the
 *  member themself if they are one, and every other legal representative who is not blocked. A
 *  blocked one can act for nobody, so they do not keep the organization in someone's charge
 *  (keepsALegalRep then refuses to let the last one who can act go). */
export function legalRepCount(
  rows: ReadonlyArray<{ accountId: string; role: Role; blockedAt: Date | null }>,
  accountId: string,
): number {
  return rows.filter((r) => r.role === 'legal_representative' && (r.accountId === accountId || !r.blockedAt)).length;
}

/** Locks the organization's row and reads its memberships, inside the caller's transaction: what a
 *  change that counts legal representatives decides on (role changes, blocks), so that two such
 *  changes at once are decided one after the other. */
export async function lockedMemberships(tx: Db, organizationId: string) {
  await tx.execute(sql`SELECT id FROM organizations WHERE id = ${organizationId} FOR UPDATE`);
  return tx
    .select({ accountId: memberships.accountId, role: memberships.role, blockedAt: memberships.blockedAt })
    .from(memberships)
    .where(eq(memberships.organizationId, organizationId));
}

/** How a role change ended: done, refused by the caller's rule, or no such member. */
export type RoleChange =
  { ok: true; from: Role; to: Role } | { ok: false; reason: 'not_member' | 'refused'; from?: Role };

export function createOrganizationsRepo(db: Db) {
  return {
    async create(input: OrganizationInput, legalRepId: string | null): Promise<Organization> {
      return db.transaction((tx) => insertOrganization(tx as unknown as Db, input, legalRepId));
    },
    /** The operator's organization, made the first time it is needed. */
    async operatorOrganizationId(): Promise<string> {
      await db
        .insert(organizations)
        .values({ id: OPERATOR_ORGANIZATION_ID, name: 'Operator', type: 'company' })
        .onConflictDoNothing();
      return OPERATOR_ORGANIZATION_ID;
    },
    async findById(id: string): Promise<Organization | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db.select().from(organizations).where(eq(organizations.id, id)).limit(1);
      return row;
    },
    /** Every organization with its member and application counts, in one query (the command line). */
    async list(): Promise<Array<Organization & { members: number; applications: number }>> {
      return db
        .select({
          ...getTableColumns(organizations),
          // Spelt out: drizzle leaves a single-table query's columns unqualified, and a bare "id"
          // inside the subquery would be the application's.
          members: sql<number>`(SELECT count(*)::int FROM memberships m WHERE m.organization_id = organizations.id)`,
          applications: sql<number>`(SELECT count(*)::int FROM applications a WHERE a.organization_id = organizations.id)`,
        })
        .from(organizations)
        .orderBy(asc(organizations.createdAt), asc(organizations.id));
    },
    /** The organizations an account belongs to, with its membership in each. */
    async listForAccount(accountId: string): Promise<Array<{ organization: Organization; membership: Membership }>> {
      return db
        .select({ organization: organizations, membership: memberships })
        .from(memberships)
        .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
        .where(eq(memberships.accountId, accountId))
        .orderBy(asc(organizations.createdAt), asc(organizations.id));
    },
    /** The account's personal organization (the oldest, should it have several), where its own
     *  applications go until the pages choose an organization. */
    async personalOf(accountId: string): Promise<Organization | undefined> {
      const [row] = await db
        .select({ organization: organizations })
        .from(memberships)
        .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
        .where(
          and(
            eq(memberships.accountId, accountId),
            eq(memberships.role, 'legal_representative'),
            eq(organizations.type, 'personal'),
          ),
        )
        .orderBy(asc(organizations.createdAt))
        .limit(1);
      return row?.organization;
    },
    async membership(organizationId: string, accountId: string): Promise<Membership | undefined> {
      // Either id may come from a URL: one that is not a UUID is no member (not a database error).
      if (!isUuid(organizationId) || !isUuid(accountId)) return undefined;
      const [row] = await db
        .select()
        .from(memberships)
        .where(and(eq(memberships.organizationId, organizationId), eq(memberships.accountId, accountId)))
        .limit(1);
      return row;
    },
    async members(organizationId: string): Promise<Array<Membership & { email: string }>> {
      const rows = await db
        .select({ membership: memberships, email: accounts.email })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(eq(memberships.organizationId, organizationId))
        .orderBy(asc(memberships.createdAt));
      return rows.map((r) => ({ ...r.membership, email: r.email }));
    },
    /** False when the account is already a member (its role is left as it is). */
    async addMember(organizationId: string, accountId: string, role: Role): Promise<boolean> {
      const rows = await db
        .insert(memberships)
        .values({ organizationId, accountId, role })
        .onConflictDoNothing()
        .returning({ accountId: memberships.accountId });
      return rows.length === 1;
    },
    /** Changes a role if `allowed(from, legalRepCount)` says so, under a lock on the organization:
     *  two legal representatives demoted at once cannot both see the other one still there. */
    async setRole(
      organizationId: string,
      accountId: string,
      to: Role,
      allowed: (from: Role, legalRepCount: number) => boolean,
    ): Promise<RoleChange> {
      return db.transaction(async (t) => {
        const tx = t as unknown as Db;
        const rows = await lockedMemberships(tx, organizationId);
        const from = rows.find((r) => r.accountId === accountId)?.role;
        if (!from) return { ok: false, reason: 'not_member' } as const;
        const legalReps = legalRepCount(rows, accountId);
        if (!allowed(from, legalReps)) return { ok: false, reason: 'refused', from } as const;
        await tx
          .update(memberships)
          .set({ role: to })
          .where(and(eq(memberships.organizationId, organizationId), eq(memberships.accountId, accountId)));
        return { ok: true, from, to } as const;
      });
    },
    async counts(organizationId: string): Promise<{ members: number; applications: number }> {
      if (!isUuid(organizationId)) return { members: 0, applications: 0 };
      const res = await db.execute(sql`
        SELECT (SELECT count(*)::int FROM ${memberships} WHERE organization_id = ${organizationId}) AS members,
               (SELECT count(*)::int FROM ${applications} WHERE organization_id = ${organizationId}) AS applications`);
      const row = (res as unknown as { rows: { members: number; applications: number }[] }).rows[0];
      return { members: row?.members ?? 0, applications: row?.applications ?? 0 };
    },
    ...memberQueries(db),
  };
}
export type OrganizationsRepo = ReturnType<typeof createOrganizationsRepo>;
