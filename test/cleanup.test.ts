// Bounded growth (issue 11): the periodic cleanup deletes what nothing needs any more and keeps
// what something still does — a live session's session_info, a device the alerts still know, a
// locked browser, the consumed refresh token reuse detection still needs. Rows come from real flows
// where that is cheap and from direct inserts where a flow would take too long (2,000 sign-ins).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql, type SQL } from 'drizzle-orm';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize } from './helpers/agent.ts';
import { runCleanup, KNOWN_DEVICES, type CleanupCounts } from '../src/maintenance/cleanup.ts';
import { runCli } from '../src/cli/main.ts';
import { openDatabase } from '../src/db/client.ts';
import type { Db } from '../src/db/client.ts';
import { ADVISORY_LOCKS } from '../src/db/locks.ts';

type Row = Record<string, string | number>;
/** Row keys of this run (the PostgreSQL database outlives it). */
const run = crypto.randomUUID();
const rows = async (db: Db, query: SQL): Promise<Row[]> =>
  ((await db.execute(query)) as unknown as { rows: Row[] }).rows;

async function sesame(argv: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  const code = await runCli(argv, { env, stdout: (s) => void (stdout += s), stderr: () => {} });
  return { code, json: () => JSON.parse(stdout) as { skipped: boolean; deleted: Record<string, number> } };
}

describe.each(storageModes())('cleanup (%s storage)', (mode) => {
  let srv: TestServer;
  let db: Db;
  const lines: string[] = [];
  let user: Awaited<ReturnType<typeof createUser>>;
  let web: Awaited<ReturnType<typeof createClient>>;

  beforeAll(async () => {
    srv = await startServer({ mode, env: { LOG_LEVEL: 'info' }, logTo: { write: (l) => void lines.push(l) } });
    db = srv.deps.database.db;
    user = await createUser(srv);
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function cleanup(): Promise<CleanupCounts> {
    const result = await runCleanup(srv.deps);
    if (result.skipped) throw new Error('cleanup skipped');
    return result.deleted;
  }
  const count = async (query: SQL) => Number((await rows(db, query))[0]!.n);

  async function token(form: Record<string, string>) {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, client_id: web.clientId, client_secret: web.clientSecret }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { access_token: string; refresh_token: string; error?: string },
    };
  }
  const refresh = (rt: string) => token({ grant_type: 'refresh_token', refresh_token: rt });
  async function signIn(agent = new Agent(srv.url)) {
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    return (await token({ grant_type: 'authorization_code', code: code!, redirect_uri: web.redirectUri })).body;
  }
  const grantOf = async (rt: string) =>
    (await rows(db, sql`SELECT grant_id FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ${rt}`))[0]!
      .grant_id as string;

  it('cleanup.session-info-orphans: rows of ended sessions go, a live session keeps its row', async () => {
    await signIn();
    const live = await rows(db, sql`SELECT session_uid FROM session_info WHERE account_id = ${user.account.id}`);
    expect(live).toHaveLength(1);
    // Old enough that only the live Session keeps it, not the margin for a session not yet saved.
    await db.execute(
      sql`UPDATE session_info SET last_active_at = now() - interval '2 hours' WHERE account_id = ${user.account.id}`,
    );
    await db.execute(sql`
      INSERT INTO session_info (session_uid, account_id, signed_in_at, last_active_at)
      SELECT 'orphan-' || i || '-' || ${run}, ${user.account.id}, now() - interval '3 days', now() - interval '2 hours'
      FROM generate_series(1, 1500) AS i`);
    // Its session is being saved at the end of this very request.
    const justNow = `just-now-${run}`;
    await db.execute(sql`INSERT INTO session_info (session_uid, account_id) VALUES (${justNow}, ${user.account.id})`);
    lines.length = 0;
    const deleted = await cleanup();
    expect(deleted.session_info).toBeGreaterThanOrEqual(1500);
    const left = await rows(db, sql`SELECT session_uid FROM session_info WHERE account_id = ${user.account.id}`);
    expect(left.map((r) => r.session_uid).sort()).toEqual([live[0]!.session_uid, justNow].sort());
    // The live session still lists with its address on the Sessions page.
    const listed = await srv.deps.repos.sessionInfo.live(user.account.id);
    expect(listed.map((l) => [l.uid, Boolean(l.ip)])).toEqual([[live[0]!.session_uid, true]]);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'cleanup deleted rows');
    expect(logged?.deleted.session_info).toBe(deleted.session_info);
  });

  it('cleanup.known-devices-bounded: a cap per account and an age limit, the alerts still meaningful', async () => {
    const insert = (account: string, rowsSql: SQL) =>
      db.execute(sql`INSERT INTO known_devices (account_id, device_hash, network, first_seen, last_seen) ${rowsSql}`);
    // 2,000 sign-ins from a phone roaming between networks (n-0 the most recent), and a laptop
    // used a week ago at home: the phone's networks must not push the laptop out.
    const roaming = (await createUser(srv)).account.id;
    await insert(
      roaming,
      sql`SELECT ${roaming}, 'phone', 'n-' || i, now() - make_interval(mins => i), now() - make_interval(mins => i)
          FROM generate_series(0, 1999) AS i`,
    );
    await insert(
      roaming,
      sql`VALUES (${roaming}, 'laptop', 'home', now() - interval '30 days', now() - interval '7 days')`,
    );
    // Thirty browsers, all at the office (d-0 the most recent).
    const many = (await createUser(srv)).account.id;
    await insert(
      many,
      sql`SELECT ${many}, 'd-' || i, 'office', now() - make_interval(mins => i), now() - make_interval(mins => i)
          FROM generate_series(0, 29) AS i`,
    );
    // Not seen for months.
    const dormant = (await createUser(srv)).account.id;
    await insert(
      dormant,
      sql`VALUES (${dormant}, 'old-phone', 'old-net', now() - interval '400 days', now() - interval '200 days'),
                 (${dormant}, 'older-phone', 'older-net', now() - interval '500 days', now() - interval '300 days')`,
    );
    // A real sign-in's row (alerts/login) is recent and stays.
    await signIn();
    const mine = sql`SELECT count(*) AS n FROM known_devices WHERE account_id = ${user.account.id}`;
    const before = await count(mine);
    expect(before).toBeGreaterThanOrEqual(1);

    const deleted = await cleanup();
    expect(deleted.known_devices).toBeGreaterThanOrEqual(2000 - KNOWN_DEVICES.keep + (30 - KNOWN_DEVICES.keep) + 1);
    const { knownDevices } = srv.deps.repos;
    const rowsOf = (a: string) => count(sql`SELECT count(*) AS n FROM known_devices WHERE account_id = ${a}`);
    expect(await rowsOf(roaming)).toBe(KNOWN_DEVICES.keep + 1);
    expect(await knownDevices.seen(roaming, 'laptop', 'home')).toEqual({ any: true, device: true, network: true });
    expect(await knownDevices.seen(roaming, 'phone', `n-${KNOWN_DEVICES.keep - 1}`)).toMatchObject({ network: true });
    // A network last used 25 sign-ins ago counts as new again.
    expect(await knownDevices.seen(roaming, 'phone', 'n-25')).toEqual({ any: true, device: true, network: false });
    expect(await rowsOf(many)).toBe(KNOWN_DEVICES.keep);
    expect((await knownDevices.seen(many, `d-${KNOWN_DEVICES.keep - 1}`, 'office')).device).toBe(true);
    expect((await knownDevices.seen(many, 'd-25', 'office')).device).toBe(false);
    // A dormant account keeps its newest row, the baseline: its next sign-in is not its "first",
    // which would alert nobody.
    expect(await rowsOf(dormant)).toBe(1);
    expect(await knownDevices.seen(dormant, 'thief', 'elsewhere')).toEqual({
      any: true,
      device: false,
      network: false,
    });
    expect((await knownDevices.seen(dormant, 'old-phone', 'old-net')).device).toBe(true);
    expect(await count(mine)).toBe(before);
  });

  it('cleanup.trusted-devices: long-unused browsers go, never a locked one or one with failures counting', async () => {
    const a = (await createUser(srv)).account.id;
    await db.execute(sql`
      INSERT INTO trusted_devices (account_id, device_hash, first_sign_in, last_sign_in, locked_at, failed_passwords, failed_at) VALUES
        (${a}, 'unused', now() - interval '800 days', now() - interval '400 days', NULL, 0, NULL),
        (${a}, 'stale-failures', now() - interval '800 days', now() - interval '400 days', NULL, 4, now() - interval '100 days'),
        (${a}, 'locked', now() - interval '800 days', now() - interval '400 days', now() - interval '1 day', 10, now() - interval '1 day'),
        (${a}, 'failing', now() - interval '800 days', now() - interval '400 days', NULL, 3, now() - interval '2 days'),
        (${a}, 'recent', now() - interval '800 days', now() - interval '10 days', NULL, 0, NULL)`);
    const deleted = await cleanup();
    expect(deleted.trusted_devices).toBeGreaterThanOrEqual(2);
    const left = await rows(db, sql`SELECT device_hash FROM trusted_devices WHERE account_id = ${a} ORDER BY 1`);
    expect(left.map((r) => r.device_hash)).toEqual(['failing', 'locked', 'recent']);
  });

  it('cleanup.refresh-tokens: nothing kept for a grant with nothing to protect, everything a live chain needs kept', async () => {
    // A chain rotated 25 times, the last use ten minutes ago.
    const t0 = await signIn();
    const chain = [t0.refresh_token as string];
    for (let i = 0; i < 25; i++) chain.push((await refresh(chain.at(-1)!)).body.refresh_token);
    const grant = await grantOf(chain.at(-1)!);
    await db.execute(sql`
      UPDATE oidc_payloads SET consumed_at = consumed_at - interval '10 minutes'
      WHERE model = 'RefreshToken' AND grant_id = ${grant} AND consumed_at IS NOT NULL`);
    // A grant whose only live token expired, and a grant that is gone.
    const lone = await signIn();
    const loneNext = (await refresh(lone.refresh_token)).body.refresh_token as string;
    await db.execute(
      sql`UPDATE oidc_payloads SET consumed_at = consumed_at - interval '10 minutes' WHERE id = ${lone.refresh_token}`,
    );
    await db.execute(sql`UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE id = ${loneNext}`);
    const gone = await signIn();
    const goneNext = (await refresh(gone.refresh_token)).body.refresh_token as string;
    await db.execute(sql`DELETE FROM oidc_payloads WHERE model = 'Grant' AND id = ${await grantOf(goneNext)}`);
    // A chain just used: its consumed token is what a retry needs.
    const fresh = await signIn();
    const freshNext = await refresh(fresh.refresh_token);

    const deleted = await cleanup();
    expect(deleted.refresh_tokens).toBeGreaterThanOrEqual(1 + 2);
    const kept = await rows(
      db,
      sql`SELECT id FROM oidc_payloads WHERE model = 'RefreshToken' AND grant_id = ${grant} AND consumed_at IS NOT NULL`,
    );
    // A live chain keeps every consumed token: any of them replayed revokes it.
    expect(kept.map((r) => r.id).sort()).toEqual(chain.slice(0, 25).sort());
    const exists = async (id: string) =>
      (await count(sql`SELECT count(*) AS n FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ${id}`)) === 1;
    expect(await exists(lone.refresh_token)).toBe(false);
    expect(await exists(gone.refresh_token)).toBe(false);
    expect(await exists(goneNext)).toBe(false);
    expect(await exists(fresh.refresh_token)).toBe(true);

    // The grace still works after a cleanup…
    const retry = await refresh(fresh.refresh_token);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).not.toBe(freshNext.body.refresh_token);
    // …and a kept consumed token still revokes the grant when replayed.
    expect((await refresh(chain[0]!)).body.error).toBe('invalid_grant');
    expect((await refresh(chain.at(-1)!)).body.error).toBe('invalid_grant');
  });

  it('cleanup.one-node-at-a-time: two cleanups at once, one runs and the other skips', async () => {
    const results = await Promise.all([runCleanup(srv.deps), runCleanup(srv.deps)]);
    expect(results.map((r) => r.skipped).sort()).toEqual([false, true]);
    if (mode !== 'postgres') return;
    // Another node in the middle of a round holds the lock: this one skips, on the command line too.
    const other = await startServer({ mode });
    try {
      await other.deps.database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS.cleanup})`);
        expect(await runCleanup(srv.deps)).toEqual({ skipped: true });
        const cli = await sesame(['cleanup'], { ...process.env, DATA_DIR: srv.dataDir, LOG_LEVEL: 'silent' });
        expect(cli.code).toBe(0);
        expect(cli.json()).toEqual({ skipped: true });
      });
      expect((await runCleanup(srv.deps)).skipped).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it('cleanup.cli: `sesame cleanup` runs a round and prints what it deleted', async () => {
    let env: Record<string, string | undefined>;
    let cliDb: Db;
    let close = async () => {};
    if (mode === 'postgres') {
      env = { ...process.env, DATA_DIR: srv.dataDir, LOG_LEVEL: 'silent' };
      cliDb = db;
    } else {
      // The embedded database belongs to one process: the command line gets a data dir of its own.
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cleanup-cli-'));
      env = { ...process.env, DATA_DIR: dataDir, KEYS_DIR: path.join(dataDir, 'keys'), LOG_LEVEL: 'silent' };
      delete env.DATABASE_URL;
      delete env.REDIS_URL;
      const first = await sesame(['cleanup'], env);
      expect(first.code).toBe(0);
      expect(first.json()).toMatchObject({ skipped: false, deleted: { session_info: 0, known_devices: 0 } });
      const created = await sesame(
        [
          'user',
          'create',
          '--email',
          'cli@example.test',
          '--password',
          'correct horse battery staple 42',
          '--name',
          'Ada Lovelace',
        ],
        env,
      );
      expect(created.code).toBe(0);
      const database = await openDatabase({ dataDir });
      cliDb = database.db;
      close = () => database.close();
    }
    const account = mode === 'postgres' ? user.account.id : (await rows(cliDb, sql`SELECT id FROM accounts`))[0]!.id;
    await cliDb.execute(sql`
      INSERT INTO session_info (session_uid, account_id, last_active_at)
      SELECT 'cli-orphan-' || i || '-' || ${crypto.randomUUID()}, ${account}, now() - interval '1 day' FROM generate_series(1, 7) AS i`);
    await close();
    const run = await sesame(['cleanup'], env);
    expect(run.code).toBe(0);
    const out = run.json();
    expect(out.skipped).toBe(false);
    expect(out.deleted.session_info).toBeGreaterThanOrEqual(7);
    expect(Object.keys(out.deleted).sort()).toEqual([
      'activity',
      'expired_links',
      'expired_oidc_rows',
      'known_devices',
      'refresh_tokens',
      'session_info',
      'trusted_devices',
    ]);
    expect((await sesame(['cleanup', '--now'], env)).code).toBe(2);
  });
});
