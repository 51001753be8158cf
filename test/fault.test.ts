// Faults lose nothing: a Sesame node (a real `sesame serve` process) on a PostgreSQL and a Redis of
// this file's own, which the tests stop, kill and start again while the node serves. The node must
// never crash, must answer 503 with Retry-After at once while a dependency is down (never a hang),
// must serve again by itself when it is back, and no user may lose a sign-in or a lockout.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import pgDriver from 'pg';
import path from 'node:path';
import crypto from 'node:crypto';
import { Agent, authorize, authorizeQuery, basicAuth } from './helpers/agent.ts';
import {
  privateDeployment,
  startNode,
  waitFor,
  type NodeProcess,
  type PrivateDeployment,
  type PrivateService,
  privateServicesMissing,
} from './helpers/processes.ts';
import { STRONG_PASSWORD, uniqueEmail, type TestServer } from './helpers/server.ts';
import { passwordStep } from './helpers/mfa.ts';

let deployment: PrivateDeployment;
let pg: PrivateService;
let redis: PrivateService;
let env: Record<string, string>;
let node: NodeProcess;
let web: { clientId: string; clientSecret: string; redirectUri: string };
let service: { clientId: string; clientSecret: string };

const cli = (args: string[]) => deployment.cli(args);

async function newUser() {
  const email = uniqueEmail('fault');
  await cli(['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'Ada Lovelace']);
  return email;
}

/** A timed request that never throws: status, or 0 for a connection error. */
async function timed(url: string, init?: RequestInit) {
  const t0 = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const body = await res.text();
    return { status: res.status, ms: Date.now() - t0, retryAfter: res.headers.get('retry-after'), body };
  } catch (err) {
    return { status: 0, ms: Date.now() - t0, retryAfter: null, body: String(err) };
  }
}

const tokenRequest = (
  form: Record<string, string>,
  client: { clientId: string; clientSecret: string } = web,
  at = node.url,
) =>
  timed(`${at}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuth(client.clientId, client.clientSecret),
    },
    body: new URLSearchParams(form),
  });
const ready = () => timed(`${node.url}/readyz`);

/** A signed-in user of `web` with offline access: its first token set. */
async function signedInTokens() {
  const email = await newUser();
  const { code } = await authorize(new Agent(node.url), {
    clientId: web.clientId,
    redirectUri: web.redirectUri,
    email,
    password: STRONG_PASSWORD,
    scope: 'openid offline_access',
    extra: { prompt: 'consent' },
  });
  const r = await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: web.redirectUri });
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as { access_token: string; refresh_token: string };
}

const userinfo = (accessToken: string) =>
  timed(`${node.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });

beforeAll(async () => {
  if (privateServicesMissing) return;
  deployment = await privateDeployment('fault');
  ({ pg, redis } = deployment);
  env = { ...deployment.env, ALLOW_PRIVATE_NETWORK_CALLBACKS: 'true' };
  const w = await cli([
    'client',
    'create',
    '--name',
    'Fault blog',
    '--type',
    'web',
    '--redirect-uri',
    'https://rp.example/callback',
  ]);
  web = { clientId: w.client_id!, clientSecret: w.client_secret!, redirectUri: 'https://rp.example/callback' };
  const s = await cli(['client', 'create', '--name', 'Fault service', '--type', 'service']);
  service = { clientId: s.client_id!, clientSecret: s.client_secret! };
  node = await startNode({ env });
}, 120_000);

afterAll(async () => {
  await node?.stop('SIGKILL');
  await deployment?.destroy();
});

/** Requests in a loop while a fault happens: every answer must be a real one, and quick. */
function steadyLoad() {
  const results: Array<{ status: number; ms: number; retryAfter: string | null }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const [a, b] = await Promise.all([tokenRequest({ grant_type: 'client_credentials' }, service), ready()]);
      results.push(a, b);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    results,
    async stop() {
      running = false;
      await loop;
      return results;
    },
  };
}

function expectOnlyRealAnswers(results: Array<{ status: number; ms: number; retryAfter: string | null }>) {
  // 200 (served) or 503 with Retry-After (a dependency down): no 500, no connection error, no hang.
  const bad = results.filter((r) => r.status !== 200 && !(r.status === 503 && r.retryAfter));
  expect(bad).toEqual([]);
  expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3000);
}

describe.skipIf(privateServicesMissing)(
  `faults${privateServicesMissing ? ` (skipped: ${privateServicesMissing})` : ''}`,
  () => {
    it('fault.pg-restart-node-survives: PostgreSQL stopped, killed and started again; the node answers 503 meanwhile and serves again by itself', async () => {
      const before = await signedInTokens();
      for (const stop of [() => pg.stop(), () => pg.kill()]) {
        const load = steadyLoad();
        await stop();
        // While it is down: /readyz names it, a request that needs it fails fast with 503 + Retry-After.
        const down = await waitFor('readyz to report the database', async () => {
          const r = await ready();
          return r.status === 503 ? r : undefined;
        });
        expect(JSON.parse(down.body)).toMatchObject({ database: 'unavailable', store: 'ok', missing: ['database'] });
        const refresh = await tokenRequest({
          grant_type: 'refresh_token',
          refresh_token: 'not-a-real-token-' + crypto.randomUUID(),
        });
        expect(refresh.status).toBe(503);
        expect(refresh.retryAfter).toBeTruthy();
        expect(JSON.parse(refresh.body).error).toBe('temporarily_unavailable');
        expect(refresh.ms).toBeLessThan(1500);
        const page = await timed(`${node.url}/account`, { headers: { accept: 'text/html' }, redirect: 'manual' });
        expect([503, 302, 303]).toContain(page.status);
        await pg.start();
        await waitFor('readyz after PostgreSQL is back', async () => (await ready()).status === 200, 20_000);
        expectOnlyRealAnswers(await load.stop());
        expect(node.child.exitCode).toBeNull();
      }
      // Sign-ins from before the outages still work, and new ones too.
      const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: before.refresh_token });
      expect(refreshed.status).toBe(200);
      expect((await userinfo(JSON.parse(refreshed.body).access_token)).status).toBe(200);
      await signedInTokens();
      // One line per outage, not one per failed request; nothing unhandled.
      expect(node.logs().filter((l) => /PostgreSQL connection lost/.test(l.msg)).length).toBeGreaterThanOrEqual(1);
      expect(node.logs().filter((l) => /unhandled/.test(l.msg))).toEqual([]);
    });

    it('fault.redis-restart-refresh-retry-keeps-grant: a refresh that failed while Redis was down, retried when it is back, keeps the sign-in', async () => {
      const first = await signedInTokens();
      const load = steadyLoad();
      await redis.kill();
      const down = await waitFor('readyz to report the store', async () => {
        const r = await ready();
        return r.status === 503 ? r : undefined;
      });
      expect(JSON.parse(down.body)).toMatchObject({ database: 'ok', store: 'unavailable' });
      // A browser starting a sign-in meanwhile gets a page that says to retry (not the RP's error).
      const page = await timed(`${node.url}/authorize?${authorizeQuery(web)}`, {
        headers: { accept: 'text/html' },
        redirect: 'manual',
      });
      expect(page.status).toBe(503);
      expect(page.retryAfter).toBeTruthy();
      expect(page.body).toContain('Sesame is briefly unavailable');
      // The refresh fails while Redis is down (its answer is lost to the client)…
      const lost = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(lost.status).toBe(503);
      expect(lost.retryAfter).toBeTruthy();
      expect(lost.ms).toBeLessThan(1500);
      await redis.start();
      await waitFor('readyz after Redis is back', async () => (await ready()).status === 200, 20_000);
      expectOnlyRealAnswers(await load.stop());
      // Nothing was consumed while the store was down (a longer outage than the grace costs nothing)…
      const introspected = await timed(`${node.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(web.clientId, web.clientSecret),
        },
        body: new URLSearchParams({ token: first.refresh_token }),
      });
      expect(JSON.parse(introspected.body)).toMatchObject({ active: true, client_id: web.clientId });
      // …and the client's retry with the same refresh token gets a working token set.
      const retried = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(retried.status).toBe(200);
      const set = JSON.parse(retried.body) as { access_token: string; refresh_token: string };
      expect((await userinfo(set.access_token)).status).toBe(200);
      const next = await tokenRequest({ grant_type: 'refresh_token', refresh_token: set.refresh_token });
      expect(next.status).toBe(200);
      expect(node.child.exitCode).toBeNull();
      expect(node.logs().filter((l) => /unhandled/.test(l.msg))).toEqual([]);
    });

    it('fault.redis-hung-requests-fail-fast: Redis frozen with its connections open; requests answer 503 within the deadline, then serve again', async () => {
      const load = steadyLoad();
      redis.pause!();
      try {
        const down = await waitFor('readyz to report the store', async () => {
          const r = await ready();
          return r.status === 503 ? r : undefined;
        });
        expect(JSON.parse(down.body)).toMatchObject({ database: 'ok', store: 'unavailable' });
        const token = await tokenRequest({ grant_type: 'client_credentials' }, service);
        expect(token.status).toBe(503);
        expect(token.retryAfter).toBeTruthy();
        expect(token.ms).toBeLessThan(2500);
      } finally {
        redis.resume!();
      }
      await waitFor('readyz after Redis answers again', async () => (await ready()).status === 200, 20_000);
      expectOnlyRealAnswers(await load.stop());
      expect((await tokenRequest({ grant_type: 'client_credentials' }, service)).status).toBe(200);
      expect(node.child.exitCode).toBeNull();
    });

    it('fault.node-killed-refresh-retry-on-other-node: refreshes in flight on a node killed with SIGKILL, retried on another node, keep every sign-in', async () => {
      const victim = await startNode({ env });
      const chains = await Promise.all(Array.from({ length: 12 }, () => signedInTokens()));
      // Every chain refreshes on the victim at once, and the victim dies meanwhile.
      const inFlight = chains.map((c) =>
        tokenRequest({ grant_type: 'refresh_token', refresh_token: c.refresh_token }, web, victim.url),
      );
      // Killed the moment the first of them has consumed its refresh token (its answer not yet
      // sent, or sent to a client that will never read it).
      const db = new pgDriver.Client({ connectionString: deployment.pg.url });
      await db.connect();
      const ids = chains.map((c) => c.refresh_token);
      await waitFor('a refresh to consume its token on the victim', async () => {
        const r = await db.query(
          "SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ANY($1) AND consumed_at IS NOT NULL",
          [ids],
        );
        return (r.rows[0] as { n: number }).n > 0;
      });
      await victim.stop('SIGKILL');
      const consumed = (
        await db.query(
          "SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ANY($1) AND consumed_at IS NOT NULL",
          [ids],
        )
      ).rows[0] as { n: number };
      await db.end();
      const answers = await Promise.all(inFlight);
      // A client that got no answer retries with the same token on the node that is left; then it
      // goes on refreshing. Whatever the interleaving, nobody is signed out.
      for (const [i, answer] of answers.entries()) {
        let current = answer.status === 200 ? (JSON.parse(answer.body) as { refresh_token: string }).refresh_token : '';
        if (!current) {
          const retry = await tokenRequest({ grant_type: 'refresh_token', refresh_token: chains[i]!.refresh_token });
          expect(retry.status, retry.body).toBe(200);
          current = (JSON.parse(retry.body) as { refresh_token: string }).refresh_token;
        }
        const next = await tokenRequest({ grant_type: 'refresh_token', refresh_token: current });
        expect(next.status, next.body).toBe(200);
      }
      expect(consumed.n).toBeGreaterThan(0);
      console.log(
        `node kill: ${answers.filter((a) => a.status !== 200).length} of ${answers.length} refreshes cut, ${consumed.n} had consumed their token`,
      );
    });

    it('fault.lockout-survives-redis-restart: failed passwords before a Redis restart (with nothing persisted) still count after it', async () => {
      const email = await newUser();
      const wrong = async () =>
        (await passwordStep({ url: node.url } as TestServer, web, email, 'wrong password 123')).page;
      // The default threshold is 10: 6 wrong answers, Redis loses everything, 4 more.
      for (let i = 0; i < 6; i++) expect((await wrong()).status).toBe(401);
      await redis.kill();
      await redis.start();
      await waitFor('readyz after Redis is back', async () => (await ready()).status === 200, 20_000);
      for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
      // Locked: even the right password is refused now, and the owner got the unlock link.
      await expect(
        authorize(new Agent(node.url), {
          clientId: web.clientId,
          redirectUri: web.redirectUri,
          email,
          password: STRONG_PASSWORD,
        }),
      ).rejects.toThrow(/did not return to the RP: 401/);
      await waitFor('the lock email', () => {
        const file = path.join(env.DATA_DIR!, 'outbox', 'emails.jsonl');
        return (
          fs.existsSync(file) &&
          fs.readFileSync(file, 'utf8').includes(email) &&
          fs.readFileSync(file, 'utf8').includes('/unlock?token=')
        );
      });
    });
  },
);
