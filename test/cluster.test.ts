// Several Sesame nodes, real processes (`sesame serve`), on one PostgreSQL database of their own:
// the first start of many nodes at once makes one key set, and a rotation from the command line
// reaches every running node — published first, signing later — without a restart.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startNode, freshDatabaseUrl, dropDatabase, waitFor, type NodeProcess } from './helpers/processes.ts';
import { Agent, signInForIdToken } from './helpers/agent.ts';
import { STRONG_PASSWORD, uniqueEmail } from './helpers/server.ts';
import { runCli } from '../src/cli/main.ts';

const BASE = process.env.DATABASE_URL;

/** What every node of one deployment shares (the keys are encrypted with ENCRYPTION_KEY). */
const SECRETS = {
  COOKIE_SECRETS: crypto.randomBytes(32).toString('base64url'),
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
};

/** A database for this test alone: rotations must not reach other test files' servers. */
function databaseFor(suffix: string) {
  const name = `${new URL(BASE!).pathname.slice(1) || 'sesame'}_${suffix}_${process.pid}`.replace(/\W/g, '_');
  const url = freshDatabaseUrl(BASE!, name);
  return { url, drop: () => dropDatabase(BASE!, name) };
}

/** A node's environment: its own DATA_DIR and an empty KEYS_DIR, the deployment's database and secrets. */
function nodeEnv(databaseUrl: string, extra: Record<string, string> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-node-'));
  fs.mkdirSync(path.join(dataDir, 'keys'));
  return { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, KEYS_DIR: path.join(dataDir, 'keys'), ...SECRETS, ...extra };
}

/** `sesame …` in this process against the deployment's database. */
async function sesame<T>(argv: string[], env: Record<string, string>): Promise<T> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env },
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  if (code !== 0) throw new Error(`sesame ${argv.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as T;
}

/** A user and a web client, made with the command line, as an operator would. */
async function userAndClient(env: Record<string, string>) {
  const email = uniqueEmail('cluster');
  await sesame<unknown>(
    ['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'Grace Hopper'],
    env,
  );
  const redirectUri = 'https://rp.example/callback';
  const client = await sesame<{ client_id: string; client_secret: string }>(
    ['client', 'create', '--name', 'RP', '--type', 'web', '--redirect-uri', redirectUri],
    env,
  );
  return {
    email,
    password: STRONG_PASSWORD,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    redirectUri,
  };
}
type Login = Awaited<ReturnType<typeof userAndClient>>;
interface Rotated {
  added: string[];
  retired: string[];
  activates_at: string;
}

async function jwksOf(node: NodeProcess): Promise<Array<{ kid: string; alg: string; d?: string }>> {
  const res = await fetch(`${node.url}/jwks`);
  return ((await res.json()) as { keys: Array<{ kid: string; alg: string }> }).keys;
}
const kidsOf = async (node: NodeProcess) => (await jwksOf(node)).map((k) => k.kid);
const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;

async function storedKeys(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ kid: string; alg: string; retired_at: Date | null }>(
      'SELECT kid, alg, retired_at FROM signing_keys ORDER BY alg',
    );
    return rows;
  } finally {
    await client.end();
  }
}

async function sql(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(statement).finally(() => client.end());
}

// The embedded database belongs to one process: a cluster needs PostgreSQL (CI sets DATABASE_URL).
describe.skipIf(!BASE)(
  BASE
    ? 'cluster (nodes as processes on one PostgreSQL database)'
    : 'cluster (skipped: needs DATABASE_URL, a PostgreSQL server)',
  () => {
    it('cluster.first-start-one-jwks: three nodes first started at once on an empty database publish one key set', async () => {
      const db = databaseFor('first_start');
      const nodes = await Promise.all([0, 1, 2].map(() => startNode({ env: nodeEnv(db.url) })));
      try {
        const [a, b, c] = await Promise.all(nodes.map(jwksOf));
        expect(b).toEqual(a);
        expect(c).toEqual(a);
        expect(a!.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
        expect(a!.some((k) => 'd' in k)).toBe(false);
        // Exactly one key per alg in the table, both active.
        const rows = await storedKeys(db.url);
        expect(rows.map((r) => r.alg)).toEqual(['ES256', 'RS256']);
        expect(rows.every((r) => r.retired_at === null)).toBe(true);
        expect(rows.map((r) => r.kid).sort()).toEqual(a!.map((k) => k.kid).sort());
        const env = { DATABASE_URL: db.url, DATA_DIR: nodeEnv(db.url).DATA_DIR, ...SECRETS };
        expect((await sesame<Array<{ state: string }>>(['keys', 'list'], env)).map((k) => k.state)).toEqual([
          'active',
          'active',
        ]);
        // An ID token from node A verifies with the JWKS of nodes B and C.
        const login = await userAndClient(env);
        const idToken = await signInForIdToken(new Agent(nodes[0]!.url), login);
        for (const other of nodes.slice(1)) {
          const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${other.url}/jwks`)), {
            issuer: nodes[0]!.url,
            audience: login.clientId,
          });
          expect(payload.sub).toBeTruthy();
        }
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
        db.drop();
      }
    }, 120_000);

    it('cluster.rotation-seen-without-restart: both nodes publish the new keys first, sign with them from activation, and keep their keys when a read fails', async () => {
      const db = databaseFor('rotation');
      // No Redis: nothing tells the nodes of the rotation but their own refresh (KEYS_REFRESH_SECONDS).
      const nodes = await Promise.all(
        [0, 1].map(() => startNode({ env: nodeEnv(db.url, { KEYS_REFRESH_SECONDS: '1' }) })),
      );
      const pids = nodes.map((n) => n.child.pid);
      const env = { DATABASE_URL: db.url, DATA_DIR: nodeEnv(db.url).DATA_DIR, KEYS_REFRESH_SECONDS: '1', ...SECRETS };
      try {
        const login: Login = await userAndClient(env);
        const agents = nodes.map((n) => new Agent(n.url));
        const signIn = (i: number) => signInForIdToken(agents[i]!, login);
        const oldKids = await kidsOf(nodes[0]!);
        expect(await kidsOf(nodes[1]!)).toEqual(oldKids);
        const oldToken = await signIn(0);
        expect(kidOf(oldToken)).toBe(oldKids[0]);

        const rotated = await sesame<Rotated>(['keys', 'rotate', '--activate-in', '10'], env);
        const activatesAt = Date.parse(rotated.activates_at);
        expect(rotated.retired.sort()).toEqual([...oldKids].sort());
        // Published by both within a refresh interval, the old keys still there (bounded wait).
        await waitFor(
          'both nodes to publish the new keys',
          async () => {
            const sets = await Promise.all(nodes.map(kidsOf));
            return sets.every((kids) => [...oldKids, ...rotated.added].every((k) => kids.includes(k)));
          },
          4_000,
        );
        // Before activation both still sign with the old key.
        const before = await Promise.all([signIn(0), signIn(1)]);
        expect(Date.now()).toBeLessThan(activatesAt);
        expect(before.map(kidOf)).toEqual([oldKids[0], oldKids[0]]);
        // After activation both sign with the new one.
        const after = await waitFor(
          'both nodes to sign with the new key',
          async () => {
            const tokens = await Promise.all([signIn(0), signIn(1)]);
            return tokens.every((t) => kidOf(t) === rotated.added[0]) && tokens;
          },
          15_000,
        );
        expect(Date.now()).toBeGreaterThanOrEqual(activatesAt);
        for (const node of nodes) {
          const kids = await kidsOf(node);
          expect(kids.slice(0, 2)).toEqual(rotated.added);
          expect(kids).toEqual(expect.arrayContaining(oldKids));
          const set = createRemoteJWKSet(new URL(`${node.url}/jwks`));
          await jwtVerify(oldToken, set, { audience: login.clientId });
          for (const t of after) await jwtVerify(t, set, { audience: login.clientId });
        }
        // Without a restart: the same processes throughout.
        expect(nodes.map((n) => n.child.pid)).toEqual(pids);
        expect(nodes.every((n) => n.child.exitCode === null)).toBe(true);

        // The key table unreadable: each node logs it and serves with the keys it has.
        const published = await Promise.all(nodes.map(kidsOf));
        const warnings = () => nodes.map((n) => n.logs().filter((l) => /could not be read/.test(l.msg)).length);
        const seen = warnings();
        await sql(db.url, 'ALTER TABLE signing_keys RENAME TO signing_keys_away');
        try {
          await waitFor('both nodes to fail a key refresh', () => warnings().every((w, i) => w > seen[i]!), 5_000);
          expect(await Promise.all(nodes.map(kidsOf))).toEqual(published);
          const during = await Promise.all([signIn(0), signIn(1)]);
          expect(during.map(kidOf)).toEqual([rotated.added[0], rotated.added[0]]);
          expect(nodes.every((n) => n.child.exitCode === null)).toBe(true);
        } finally {
          await sql(db.url, 'ALTER TABLE signing_keys_away RENAME TO signing_keys');
        }
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
        db.drop();
      }
    }, 120_000);

    // With Redis, a rotation is announced: nodes whose refresh is an hour away publish it at once.
    it.skipIf(!process.env.REDIS_URL)(
      'cluster.rotation-announced: a rotation reaches nodes through Redis without waiting for their refresh',
      async () => {
        const db = databaseFor('announced');
        const extra = { REDIS_URL: process.env.REDIS_URL!, KEYS_REFRESH_SECONDS: '3600' };
        const nodes = await Promise.all([0, 1].map(() => startNode({ env: nodeEnv(db.url, extra) })));
        try {
          const env = { DATABASE_URL: db.url, DATA_DIR: nodeEnv(db.url).DATA_DIR, ...extra, ...SECRETS };
          const rotated = await sesame<Rotated>(['keys', 'rotate'], env);
          expect(Date.parse(rotated.activates_at) - Date.now()).toBeGreaterThan(7_000_000);
          await waitFor(
            'both nodes to publish the announced keys',
            async () =>
              (await Promise.all(nodes.map(kidsOf))).every((kids) => rotated.added.every((k) => kids.includes(k))),
            5_000,
          );
        } finally {
          await Promise.all(nodes.map((n) => n.stop()));
          db.drop();
        }
      },
      60_000,
    );
  },
);
