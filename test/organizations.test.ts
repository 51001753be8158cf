// Organizations over real stores: the repository's rules that no single policy call can keep alone.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { startServer, storageModes, createUser, type TestServer } from './helpers/server.ts';
import { keepsALegalRep } from '../src/organizations/policy.ts';

describe.each(storageModes())('organizations (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('org.parallel-demotions-keep-a-legal-rep: two legal representatives demoted at once leave one of them', async () => {
    const orgs = srv.deps.repos.organizations;
    // Several organizations at once, so that the two demotions of each really overlap.
    const rounds = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const [a, b] = [await createUser(srv), await createUser(srv)];
        const org = await orgs.create({ name: 'Twin heads', type: 'company' }, a.account.id);
        await orgs.addMember(org.id, b.account.id, 'legal_representative');
        const demote = (id: string) =>
          orgs.setRole(org.id, id, 'administrator', (from, count) => keepsALegalRep(from, 'administrator', count));
        const results = await Promise.all([demote(a.account.id), demote(b.account.id)]);
        const members = await orgs.members(org.id);
        return { results, legalReps: members.filter((m) => m.role === 'legal_representative').length };
      }),
    );
    for (const { results, legalReps } of rounds) {
      expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
      expect(results.find((r) => !r.ok)).toMatchObject({ reason: 'refused', from: 'legal_representative' });
      expect(legalReps).toBe(1);
    }
  });

  it('org.grants-stay-inside-the-organization: the database refuses a grant or a team member from another organization, and removing a member removes theirs', async () => {
    const orgs = srv.deps.repos.organizations;
    const db = srv.deps.database.db;
    const [alice, bob, mallory] = [await createUser(srv), await createUser(srv), await createUser(srv)];
    const acme = await orgs.create({ name: 'Acme', type: 'company' }, alice.account.id);
    await orgs.addMember(acme.id, bob.account.id, 'collaborator');
    const other = (await orgs.personalOf(mallory.account.id))!;
    const { app } = await srv.deps.applications.create(
      alice.account.id,
      { name: 'Intranet', type: 'service', redirectUris: [], postLogoutRedirectUris: [] },
      acme.id,
    );
    const team = async (orgId: string) => {
      const id = crypto.randomUUID();
      await db.execute(sql`INSERT INTO teams (id, organization_id, name) VALUES (${id}, ${orgId}, ${'Team'})`);
      return id;
    };
    const acmeTeam = await team(acme.id);
    const otherTeam = await team(other.id);
    const grant = (orgId: string, accountId: string | null, teamId: string | null) =>
      db.execute(sql`INSERT INTO application_grants (id, organization_id, application_id, account_id, team_id)
        VALUES (${crypto.randomUUID()}, ${orgId}, ${app.id}, ${accountId}, ${teamId})`);
    const joinTeam = (teamId: string, orgId: string, accountId: string) =>
      db.execute(
        sql`INSERT INTO team_members (team_id, organization_id, account_id) VALUES (${teamId}, ${orgId}, ${accountId})`,
      );
    /** The write fails with this SQLSTATE: 23503 foreign key, 23514 check, 23505 unique. */
    const refused = async (what: Promise<unknown>, sqlState: '23503' | '23514' | '23505') => {
      const err = await what.then(() => undefined).catch((e: unknown) => e as { cause?: { code?: string } });
      expect(err?.cause?.code).toBe(sqlState);
    };

    // Not a member of the application's organization; the application named under another one;
    // another organization's team; a team name taken (any case); both a member and a team.
    await refused(grant(acme.id, mallory.account.id, null), '23503');
    await refused(grant(other.id, mallory.account.id, null), '23503');
    await refused(grant(acme.id, null, otherTeam), '23503');
    await refused(joinTeam(acmeTeam, acme.id, mallory.account.id), '23503');
    await refused(joinTeam(otherTeam, other.id, bob.account.id), '23503');
    await refused(
      db.execute(
        sql`INSERT INTO teams (id, organization_id, name) VALUES (${crypto.randomUUID()}, ${acme.id}, 'TEAM')`,
      ),
      '23505',
    );
    await refused(grant(acme.id, bob.account.id, acmeTeam), '23514');
    await refused(grant(acme.id, null, null), '23514');

    // The right ones are accepted; removing Bob's membership takes his grant and his team place.
    await grant(acme.id, bob.account.id, null);
    await grant(acme.id, null, acmeTeam);
    await joinTeam(acmeTeam, acme.id, bob.account.id);
    const count = async (table: string) =>
      (
        (await db.execute(
          sql.raw(
            `SELECT count(*)::int AS n FROM ${table} WHERE organization_id = '${acme.id}' AND account_id IS NOT NULL`,
          ),
        )) as unknown as {
          rows: { n: number }[];
        }
      ).rows[0]!.n;
    expect([await count('application_grants'), await count('team_members')]).toEqual([1, 1]);
    await db.execute(
      sql`DELETE FROM memberships WHERE organization_id = ${acme.id} AND account_id = ${bob.account.id}`,
    );
    expect([await count('application_grants'), await count('team_members')]).toEqual([0, 0]);
  });
});
