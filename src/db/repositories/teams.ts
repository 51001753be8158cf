// Teams: named groups of one organization's members (migration 0010). Every query names the
// organization with the team, so a team id of another organization finds nothing; and the
// composite foreign keys of team_members refuse a member of another organization even if a
// caller forgot to check (the refusal comes back as "refused", never as an exception).
import crypto from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../errors.ts';
import { accounts, teamMembers, teams, type Team } from '../schema.ts';

export type { Team };

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** The team ids an account belongs to in one organization (for "granted through a team"). Team
 *  membership lives in team_members only. */
export async function teamIdsOf(db: Db, organizationId: string, accountId: string): Promise<string[]> {
  if (!isUuid(organizationId) || !isUuid(accountId)) return [];
  const rows = await db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(and(eq(teamMembers.organizationId, organizationId), eq(teamMembers.accountId, accountId)));
  return rows.map((r) => r.teamId);
}

export function createTeamsRepo(db: Db) {
  return {
    teamIdsOf: (organizationId: string, accountId: string) => teamIdsOf(db, organizationId, accountId),
    /** The organization's teams by name, with their member counts (one query). */
    async list(organizationId: string): Promise<Array<Team & { members: number }>> {
      return db
        .select({
          id: teams.id,
          organizationId: teams.organizationId,
          name: teams.name,
          createdAt: teams.createdAt,
          // Spelt out: drizzle leaves a single-table query's columns unqualified.
          members: sql<number>`(SELECT count(*)::int FROM team_members tm WHERE tm.team_id = teams.id)`,
        })
        .from(teams)
        .where(eq(teams.organizationId, organizationId))
        .orderBy(sql`lower(${teams.name})`, asc(teams.id));
    },
    async find(organizationId: string, teamId: string): Promise<Team | undefined> {
      if (!isUuid(teamId)) return undefined;
      const [row] = await db
        .select()
        .from(teams)
        .where(and(eq(teams.id, teamId), eq(teams.organizationId, organizationId)))
        .limit(1);
      return row;
    },
    /** Undefined when the organization already has a team of that name, in any case. */
    async create(organizationId: string, name: string): Promise<Team | undefined> {
      try {
        const [row] = await db.insert(teams).values({ id: crypto.randomUUID(), organizationId, name }).returning();
        return row;
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
    },
    /** 'taken' when another team has the name; false when there is no such team. */
    async rename(organizationId: string, teamId: string, name: string): Promise<boolean | 'taken'> {
      if (!isUuid(teamId)) return false;
      try {
        const rows = await db
          .update(teams)
          .set({ name })
          .where(and(eq(teams.id, teamId), eq(teams.organizationId, organizationId)))
          .returning({ id: teams.id });
        return rows.length === 1;
      } catch (err) {
        if (isUniqueViolation(err)) return 'taken';
        throw err;
      }
    },
    /** Deletes the team (its members' places and grants go with it: ON DELETE CASCADE). */
    async remove(organizationId: string, teamId: string): Promise<Team | undefined> {
      if (!isUuid(teamId)) return undefined;
      const [row] = await db
        .delete(teams)
        .where(and(eq(teams.id, teamId), eq(teams.organizationId, organizationId)))
        .returning();
      return row;
    },
    async members(organizationId: string, teamId: string) {
      return db
        .select({ accountId: accounts.id, email: accounts.email, name: accounts.name })
        .from(teamMembers)
        .innerJoin(accounts, eq(accounts.id, teamMembers.accountId))
        .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.organizationId, organizationId)))
        .orderBy(asc(accounts.email));
    },
    /** 'refused' when the account is not a member of the team's organization (the database's keys
     *  say so), 'exists' when already in the team. */
    async addMember(
      organizationId: string,
      teamId: string,
      accountId: string,
    ): Promise<'added' | 'exists' | 'refused'> {
      if (!isUuid(teamId) || !isUuid(accountId)) return 'refused';
      try {
        const rows = await db
          .insert(teamMembers)
          .values({ teamId, organizationId, accountId })
          .onConflictDoNothing()
          .returning({ accountId: teamMembers.accountId });
        return rows.length ? 'added' : 'exists';
      } catch (err) {
        if (isForeignKeyViolation(err)) return 'refused';
        throw err;
      }
    },
    async removeMember(organizationId: string, teamId: string, accountId: string): Promise<boolean> {
      if (!isUuid(teamId) || !isUuid(accountId)) return false;
      const rows = await db
        .delete(teamMembers)
        .where(
          and(
            eq(teamMembers.teamId, teamId),
            eq(teamMembers.organizationId, organizationId),
            eq(teamMembers.accountId, accountId),
          ),
        )
        .returning({ accountId: teamMembers.accountId });
      return rows.length === 1;
    },
  };
}
export type TeamsRepo = ReturnType<typeof createTeamsRepo>;
