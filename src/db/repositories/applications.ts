import crypto from 'node:crypto';
import { and, eq, desc, sql, getTableColumns, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { applications, type Application, type AppType, type Role } from '../schema.ts';

export type { Application, AppType };

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** One grant of access to an application, as the access page lists it: a member or a team. */
export interface AppGrant {
  id: string;
  accountId: string | null;
  email: string | null;
  role: Role | null;
  teamId: string | null;
  teamName: string | null;
}

/** What the sign-in check needs about one account and one application (organizations/access-check.ts). */
export interface SignInAccess {
  membersOnly: boolean;
  member: boolean;
  blocked: boolean;
}

/** How a grant went: made, already there, or no such member or team in the organization. */
export type GrantResult = 'granted' | 'exists' | 'not_found';

/** SQLSTATE 23503 foreign_key_violation: the composite keys refused a member or a team of another
 *  organization (or one removed meanwhile). */
const isForeignKeyViolation = (err: unknown) =>
  (err as { cause?: { code?: unknown } })?.cause?.code === '23503' || (err as { code?: unknown })?.code === '23503';

type Rows<T> = { rows: T[] };

export interface AppInput {
  name: string;
  type: AppType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | null;
}

/** Every change returns the client_id it touched, for the provider's client cache to forget. */
export function createApplicationsRepo(db: Db) {
  /** Granted to the account directly or through one of its teams (of the grant's organization). */
  const grantedTo = (accountId: string): SQL => sql`EXISTS (
    SELECT 1 FROM application_grants g
    WHERE g.application_id = applications.id
      AND (g.account_id = ${accountId}
        OR g.team_id IN (SELECT tm.team_id FROM team_members tm
                         WHERE tm.account_id = ${accountId} AND tm.organization_id = g.organization_id)))`;
  /** Inserts the row `select` yields; when it yields none, `exists` tells an existing grant from no
   *  such member or team. A member or team gone meanwhile is refused by the keys: not found. */
  async function grant(select: SQL, exists: SQL): Promise<GrantResult> {
    try {
      const res = (await db.execute(sql`
        INSERT INTO application_grants (id, organization_id, application_id, account_id, team_id) ${select}
        RETURNING id`)) as unknown as Rows<{ id: string }>;
      if (res.rows.length) return 'granted';
      return ((await db.execute(exists)) as unknown as Rows<unknown>).rows.length ? 'exists' : 'not_found';
    } catch (err) {
      if (isForeignKeyViolation(err)) return 'not_found';
      throw err;
    }
  }
  return {
    async findByClientId(clientId: string): Promise<Application | undefined> {
      const [row] = await db.select().from(applications).where(eq(applications.clientId, clientId)).limit(1);
      return row;
    },
    async listByOwner(ownerId: string): Promise<Application[]> {
      return db
        .select()
        .from(applications)
        .where(eq(applications.ownerId, ownerId))
        .orderBy(desc(applications.createdAt));
    },
    /** The applications of an organization a member sees: every one (`all`, an administrator) or
     *  those granted to the member, directly or through a team. */
    async listForMember(organizationId: string, accountId: string, all: boolean): Promise<Application[]> {
      if (!isUuid(organizationId) || !isUuid(accountId)) return [];
      return db
        .select()
        .from(applications)
        .where(and(eq(applications.organizationId, organizationId), all ? undefined : grantedTo(accountId)))
        .orderBy(desc(applications.createdAt));
    },
    /** One application of the organization, and whether it is granted to the account (directly or
     *  through a team), in one query; undefined for an id of another organization or none. */
    async findInOrganization(
      organizationId: string,
      id: string,
      accountId: string,
    ): Promise<{ app: Application; granted: boolean } | undefined> {
      if (!isUuid(id) || !isUuid(organizationId) || !isUuid(accountId)) return undefined;
      const [row] = await db
        .select({ app: getTableColumns(applications), granted: sql<boolean>`${grantedTo(accountId)}` })
        .from(applications)
        .where(and(eq(applications.id, id), eq(applications.organizationId, organizationId)))
        .limit(1);
      return row ? { app: row.app, granted: Boolean(row.granted) } : undefined;
    },
    /** The grants of one application of the organization, members first then teams. */
    async grants(organizationId: string, applicationId: string): Promise<AppGrant[]> {
      const res = (await db.execute(sql`
        SELECT g.id, g.account_id AS "accountId", a.email, m.role, g.team_id AS "teamId", t.name AS "teamName"
        FROM application_grants g
        LEFT JOIN accounts a ON a.id = g.account_id
        LEFT JOIN memberships m ON m.organization_id = g.organization_id AND m.account_id = g.account_id
        LEFT JOIN teams t ON t.id = g.team_id
        WHERE g.organization_id = ${organizationId} AND g.application_id = ${applicationId}
        ORDER BY g.team_id IS NOT NULL, lower(coalesce(a.email, t.name)), g.created_at`)) as unknown as Rows<AppGrant>;
      return res.rows;
    },
    /** The organization's teams (for the access page's choice). */
    async teams(organizationId: string): Promise<Array<{ id: string; name: string }>> {
      const res = (await db.execute(
        sql`SELECT id, name FROM teams WHERE organization_id = ${organizationId} ORDER BY lower(name), id`,
      )) as unknown as Rows<{ id: string; name: string }>;
      return res.rows;
    },
    /** Grants the application to a member of its organization: the member is looked up inside the
     *  organization by the same statement, so an account of another organization grants nothing. */
    async grantMember(organizationId: string, applicationId: string, accountId: string): Promise<GrantResult> {
      if (!isUuid(accountId)) return 'not_found';
      return grant(
        sql`SELECT ${crypto.randomUUID()}::uuid, m.organization_id, ${applicationId}::uuid, m.account_id, NULL::uuid
            FROM memberships m WHERE m.organization_id = ${organizationId} AND m.account_id = ${accountId}
            ON CONFLICT (application_id, account_id) WHERE account_id IS NOT NULL DO NOTHING`,
        sql`SELECT 1 FROM memberships WHERE organization_id = ${organizationId} AND account_id = ${accountId}`,
      );
    },
    /** Grants the application to a team of its organization (same rule as grantMember). */
    async grantTeam(organizationId: string, applicationId: string, teamId: string): Promise<GrantResult> {
      if (!isUuid(teamId)) return 'not_found';
      return grant(
        sql`SELECT ${crypto.randomUUID()}::uuid, t.organization_id, ${applicationId}::uuid, NULL::uuid, t.id
            FROM teams t WHERE t.organization_id = ${organizationId} AND t.id = ${teamId}
            ON CONFLICT (application_id, team_id) WHERE team_id IS NOT NULL DO NOTHING`,
        sql`SELECT 1 FROM teams WHERE organization_id = ${organizationId} AND id = ${teamId}`,
      );
    },
    /** Removes one grant of the application; what it granted to, or undefined when there was none. */
    async revokeGrant(
      organizationId: string,
      applicationId: string,
      grantId: string,
    ): Promise<Omit<AppGrant, 'id' | 'role'> | undefined> {
      if (!isUuid(grantId)) return undefined;
      const res = (await db.execute(sql`
        WITH d AS (
          DELETE FROM application_grants
          WHERE id = ${grantId} AND organization_id = ${organizationId} AND application_id = ${applicationId}
          RETURNING account_id, team_id)
        SELECT d.account_id AS "accountId", a.email, d.team_id AS "teamId", t.name AS "teamName"
        FROM d LEFT JOIN accounts a ON a.id = d.account_id LEFT JOIN teams t ON t.id = d.team_id`)) as unknown as Rows<
        Omit<AppGrant, 'id' | 'role'>
      >;
      return res.rows[0];
    },
    /** Sets "members only"; the client_id when it changed (nothing when it already was so). */
    async setMembersOnly(id: string, membersOnly: boolean): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({ membersOnly, updatedAt: new Date() })
        .where(and(eq(applications.id, id), sql`${applications.membersOnly} <> ${membersOnly}`))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    /** At every authorization: whether the application is members-only and the account a member
     *  (blocked or not) of its organization — one indexed lookup (client_id, then the membership's
     *  primary key). Undefined for an unknown client. */
    async signInAccess(clientId: string, accountId: string): Promise<SignInAccess | undefined> {
      const account = isUuid(accountId) ? accountId : null;
      const res = (await db.execute(sql`
        SELECT a.members_only AS "membersOnly", m.account_id IS NOT NULL AS member, m.blocked_at IS NOT NULL AS blocked
        FROM applications a
        LEFT JOIN memberships m ON m.organization_id = a.organization_id AND m.account_id = ${account}::uuid
        WHERE a.client_id = ${clientId}
        LIMIT 1`)) as unknown as Rows<SignInAccess>;
      return res.rows[0];
    },
    async create(
      owner: { ownerId: string | null; organizationId: string },
      input: AppInput,
      clientId: string,
      secretHash: string | null,
    ): Promise<Application> {
      const [row] = await db
        .insert(applications)
        .values({
          id: crypto.randomUUID(),
          clientId,
          ownerId: owner.ownerId,
          organizationId: owner.organizationId,
          name: input.name,
          type: input.type,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          backchannelLogoutUri: input.backchannelLogoutUri ?? null,
          secretHash,
        })
        .returning();
      if (!row) throw new Error('applications: insert returned no row');
      return row;
    },
    async update(id: string, input: Omit<AppInput, 'type'>): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({
          name: input.name,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          backchannelLogoutUri: input.backchannelLogoutUri ?? null,
          updatedAt: new Date(),
        })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    /** A new secret in one statement: the current one becomes the previous one until `previousUntil`
     *  (SET reads the row as it was), or is dropped at once when there is no grace period. */
    async rotateSecret(id: string, secretHash: string, previousUntil: Date | null): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({
          secretHash,
          previousSecretHash: previousUntil ? sql`${applications.secretHash}` : null,
          previousSecretExpiresAt: previousUntil,
          updatedAt: new Date(),
        })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    /** Ends the previous secret's grace period now. */
    async endPreviousSecret(id: string): Promise<string[]> {
      const rows = await db
        .update(applications)
        .set({ previousSecretHash: null, previousSecretExpiresAt: null, updatedAt: new Date() })
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
    async delete(id: string): Promise<string[]> {
      const rows = await db
        .delete(applications)
        .where(eq(applications.id, id))
        .returning({ clientId: applications.clientId });
      return rows.map((r) => r.clientId);
    },
  };
}
export type ApplicationsRepo = ReturnType<typeof createApplicationsRepo>;
