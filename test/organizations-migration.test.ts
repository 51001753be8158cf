// Migration 0010 on a database from before organizations: accounts (with and without names) and
// applications (registered from the pages, and from the command line without an owner) at 0009,
// then the server starts (and migrates). Every account has its personal organization as legal
// representative, every application an organization, and the clients' credentials keep working.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { describe, it, expect, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { startServer, storageModes, TEST_ENCRYPTION_KEY, type TestServer } from './helpers/server.ts';
import { basicAuth } from './helpers/agent.ts';
import { freshDatabaseUrl, dropDatabase } from './helpers/processes.ts';
import { openDatabase, type Database } from '../src/db/client.ts';
import { migrate, MIGRATIONS_DIR } from '../src/db/migrate.ts';
import { loadConfig } from '../src/config.ts';
import { hashClientSecret } from '../src/oidc/provider.ts';
import { OPERATOR_ORGANIZATION_ID } from '../src/db/repositories/organizations.ts';

const BEFORE = '0009_refresh_issue_order.sql';

/** A migrations directory holding only the migrations up to 0009. */
function migrationsUpTo(last: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-migrations-'));
  for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f <= last))
    fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
  return dir;
}

const rowsOf = <T>(res: unknown) => (res as { rows: T[] }).rows;

async function tokenStatus(srv: TestServer, clientId: string, secret: string) {
  const res = await fetch(`${srv.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret) },
    body: 'grant_type=client_credentials',
  });
  return res.status;
}

describe.each(storageModes())('migration 0010 (%s storage)', (mode) => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('org.migration-existing-accounts-and-applications: every account gets its personal organization, every application one, and existing clients keep their credentials', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-migrate-orgs-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    let databaseUrl: string | undefined;
    if (mode === 'postgres') {
      const name = `sesame_orgs_migration_${crypto.randomBytes(5).toString('hex')}`;
      databaseUrl = freshDatabaseUrl(process.env.DATABASE_URL!, name);
      cleanups.push(() => dropDatabase(process.env.DATABASE_URL!, name));
    }
    // The secrets' HMAC key, as the server will derive it from this ENCRYPTION_KEY.
    const { hashKey } = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY });

    // The database as it was at 0009, with data written as that version wrote it.
    const old: Database = await openDatabase({ databaseUrl, dataDir });
    const dir = migrationsUpTo(BEFORE);
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    expect((await migrate(old, dir)).at(-1)).toBe(BEFORE);
    const account = (email: string, name: string, given: string | null, family: string | null) => {
      const id = crypto.randomUUID();
      return { id, email, name, given, family };
    };
    const people = [
      account('ada@example.test', 'Ada Lovelace', 'Ada', 'Lovelace'),
      account('grace@example.test', 'Grace Hopper', 'Grace', 'Hopper'),
      account('old.timer@example.test', 'Old Timer', null, null), // before first and last names were asked
      account('nameless@example.test', ' ', null, null),
    ];
    for (const p of people)
      await old.db.execute(sql`INSERT INTO accounts (id, email, password_hash, name, given_name, family_name)
        VALUES (${p.id}, ${p.email}, 'argon2id$unused', ${p.name}, ${p.given}, ${p.family})`);
    const apps: Array<{ id: string; clientId: string; secret: string; owner: string | null; type: string }> = [];
    const app = async (owner: string | null, type: 'web' | 'service') => {
      const a = {
        id: crypto.randomUUID(),
        clientId: crypto.randomBytes(18).toString('base64url'),
        secret: crypto.randomBytes(32).toString('base64url'),
        owner,
        type,
      };
      const redirects = type === 'web' ? '["https://rp.example/cb"]' : '[]';
      await old.db
        .execute(sql`INSERT INTO applications (id, client_id, owner_id, name, type, redirect_uris, secret_hash)
        VALUES (${a.id}, ${a.clientId}, ${owner}, ${`App ${apps.length}`}, ${type}, ${redirects}::jsonb, ${hashClientSecret(hashKey, a.secret)})`);
      apps.push(a);
    };
    await app(people[0]!.id, 'service');
    await app(people[0]!.id, 'web');
    await app(people[2]!.id, 'service');
    await app(null, 'service'); // `sesame client create` before organizations
    await app(null, 'web');
    const before = rowsOf<Record<string, unknown>>(
      await old.db.execute(
        sql`SELECT id, client_id, secret_hash, owner_id, redirect_uris FROM applications ORDER BY id`,
      ),
    );
    await old.close();

    // The new version starts on it and migrates.
    const srv = await startServer({
      mode,
      dataDir,
      env: { ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    });
    cleanups.push(() => srv.stop());
    const db = srv.deps.database.db;
    const applied = rowsOf<{ name: string }>(await db.execute(sql`SELECT name FROM schema_migrations ORDER BY name`));
    expect(applied.map((r) => r.name)).toContain('0010_organizations.sql');

    // Each account: exactly one membership, legal representative of its own personal organization.
    const orgs = srv.deps.repos.organizations;
    const expectedNames = ['Ada Lovelace', 'Grace Hopper', 'Old Timer', 'nameless'];
    for (const [i, p] of people.entries()) {
      const list = await orgs.listForAccount(p.id);
      expect(list, p.email).toHaveLength(1);
      expect(list[0]!.membership.role).toBe('legal_representative');
      expect(list[0]!.organization).toMatchObject({ type: 'personal', name: expectedNames[i] });
      expect((await orgs.members(list[0]!.organization.id)).map((m) => m.email)).toEqual([p.email]);
    }
    expect(new Set(await Promise.all(people.map(async (p) => (await orgs.personalOf(p.id))!.id))).size).toBe(4);

    // Each application: in its owner's personal organization, or the operator's (which has no member).
    for (const a of apps) {
      const row = (await srv.deps.repos.applications.findByClientId(a.clientId))!;
      const expected = a.owner ? (await orgs.personalOf(a.owner))!.id : OPERATOR_ORGANIZATION_ID;
      expect(row.organizationId, a.clientId).toBe(expected);
    }
    expect(await orgs.findById(OPERATOR_ORGANIZATION_ID)).toMatchObject({ name: 'Operator', type: 'company' });
    expect(await orgs.members(OPERATOR_ORGANIZATION_ID)).toEqual([]);
    expect(await orgs.counts(OPERATOR_ORGANIZATION_ID)).toEqual({ members: 0, applications: 2 });
    const nulls = rowsOf<{ n: number }>(
      await db.execute(sql`SELECT count(*)::int AS n FROM applications WHERE organization_id IS NULL`),
    );
    expect(nulls[0]!.n).toBe(0);

    // Nothing about the credentials changed, and the secrets still authenticate at /token.
    const after = rowsOf<Record<string, unknown>>(
      await db.execute(sql`SELECT id, client_id, secret_hash, owner_id, redirect_uris FROM applications ORDER BY id`),
    );
    expect(after).toEqual(before);
    for (const a of apps.filter((x) => x.type === 'service')) {
      expect(await tokenStatus(srv, a.clientId, a.secret), a.clientId).toBe(200);
      expect(await tokenStatus(srv, a.clientId, `${a.secret}x`)).toBe(401);
    }
  });
});
