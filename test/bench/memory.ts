// `npm run bench:memory`: does a Sesame node's memory stay flat under a steady load (issue 11,
// item 7)? This script is the load generator; the server is a real `sesame serve` process of its own
// (test/helpers/processes.ts) on a private PostgreSQL and Redis, or on DATABASE_URL + REDIS_URL
// (a fresh database and key prefix of this run's own) when both are set.
//
// It warms the node up with the same mix, lets it idle, reads its idle RSS, then runs the mix for
// MEMORY_BENCH_SECONDS (default 300) at MEMORY_BENCH_CONCURRENCY requests in flight (default 24),
// sampling RSS (/proc/<pid>/status VmRSS; the peak also from VmHWM, reset once idle) every 2 s.
// The mix: client_credentials tokens, refresh-token rotations, userinfo, introspection, and complete
// logins (authorize → login → consent → token). It exits non-zero if the peak exceeds 2× idle or if
// any request failed.
//
// Investigating: MEMORY_BENCH_NODE_OPTIONS is handed to the server (e.g.
// `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/snaps`); with MEMORY_BENCH_SNAPSHOT=1 the
// script sends SIGUSR2 once idle and again at the end of the load.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Agent, authorize, basicAuth } from '../helpers/agent.ts';
import { startNode } from '../helpers/processes.ts';
import { benchDeployment, rssKb } from './procs.ts';

const SECONDS = Number(process.env.MEMORY_BENCH_SECONDS ?? 300);
const WARMUP_SECONDS = Number(process.env.MEMORY_BENCH_WARMUP_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.MEMORY_BENCH_CONCURRENCY ?? 24);
const SAMPLE_MS = 2000;
const MAX_RATIO = 2;
const PASSWORD = 'correct horse battery staple 42';
const REDIRECT_URI = 'https://rp.example/callback';
const USERS = 8;

/** The share of the in-flight requests each scenario gets (logins are the slowest: argon2id). */
const MIX = { client_credentials: 5, refresh: 4, userinfo: 5, introspection: 5, login: 5 } as const;
type Scenario = keyof typeof MIX;

interface Client {
  clientId: string;
  clientSecret: string;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const d = await benchDeployment('memory', 'private');
  const w = await d.cli(['client', 'create', '--name', 'Bench site', '--type', 'web', '--redirect-uri', REDIRECT_URI]);
  const web: Client = { clientId: w.client_id!, clientSecret: w.client_secret! };
  const s = await d.cli(['client', 'create', '--name', 'Bench service', '--type', 'service']);
  const service: Client = { clientId: s.client_id!, clientSecret: s.client_secret! };
  const emails: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench-${i}-${crypto.randomBytes(4).toString('hex')}@example.test`;
    await d.cli(['user', 'create', '--email', email, '--password', PASSWORD, '--name', 'Ada Lovelace']);
    emails.push(email);
  }

  const node = await startNode({
    env: {
      ...d.env,
      // Logins per IP and per account well above what the load makes: it measures memory, not limits.
      RATE_LIMIT_LOGIN_PER_IP: '1000000',
      RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000000',
      ...(process.env.MEMORY_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.MEMORY_BENCH_NODE_OPTIONS } : {}),
    },
  });
  // `sesame serve` registers tsx in its own process (src/bin/sesame.js): this pid is the server.
  const pid = node.child.pid!;
  const url = node.url;

  const stats = Object.fromEntries(
    Object.keys(MIX).map((k) => [k, { ok: 0, failed: 0, firstErrors: [] as string[] }]),
  ) as Record<Scenario, { ok: number; failed: number; firstErrors: string[] }>;

  async function call(path: string, init: RequestInit & { expect?: number } = {}) {
    const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== (init.expect ?? 200)) throw new Error(`${path} ${res.status}: ${body.slice(0, 200)}`);
    return body;
  }
  const post = (path: string, client: Client, form: Record<string, string>) =>
    call(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(client.clientId, client.clientSecret),
      },
      body: new URLSearchParams(form),
    }).then((b) => JSON.parse(b) as Record<string, unknown>);

  let nextUser = 0;
  /** A complete login of one of the users: authorize → login → consent → token. */
  async function login(): Promise<{ access_token: string; refresh_token: string }> {
    const { code } = await authorize(new Agent(url), {
      clientId: web.clientId,
      redirectUri: REDIRECT_URI,
      email: emails[nextUser++ % emails.length]!,
      password: PASSWORD,
      scope: 'openid email profile offline_access',
      extra: { prompt: 'consent' },
    });
    if (!code) throw new Error('login: no code');
    const t = await post('/token', web, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    if (typeof t.access_token !== 'string' || typeof t.refresh_token !== 'string')
      throw new Error(`login: no tokens ${JSON.stringify(t).slice(0, 200)}`);
    return t as { access_token: string; refresh_token: string };
  }

  // Tokens the steady scenarios use: each refresh worker rotates its own chain; userinfo and
  // introspection use tokens as a relying party would, for their lifetime (an hour).
  const chains: string[] = [];
  for (let i = 0; i < MIX.refresh; i++) chains.push((await login()).refresh_token);
  const userTokens = await Promise.all(Array.from({ length: 4 }, () => login().then((t) => t.access_token)));
  const serviceTokens: string[] = [];
  for (let i = 0; i < 4; i++)
    serviceTokens.push((await post('/token', service, { grant_type: 'client_credentials' })).access_token as string);

  const scenarios: Record<Scenario, (worker: number, n: number) => Promise<void>> = {
    async client_credentials() {
      const t = await post('/token', service, { grant_type: 'client_credentials' });
      if (typeof t.access_token !== 'string') throw new Error('no access_token');
    },
    async refresh(worker) {
      const t = await post('/token', web, { grant_type: 'refresh_token', refresh_token: chains[worker]! });
      if (typeof t.refresh_token !== 'string') throw new Error('no refresh_token');
      chains[worker] = t.refresh_token;
    },
    async userinfo(_w, n) {
      const body = await call('/oauth2/userinfo', {
        headers: { authorization: `Bearer ${userTokens[n % userTokens.length]}` },
      });
      if (!JSON.parse(body).sub) throw new Error('userinfo: no sub');
    },
    async introspection(_w, n) {
      const r = await post('/token/introspection', service, { token: serviceTokens[n % serviceTokens.length]! });
      if (r.active !== true) throw new Error('introspection: inactive');
    },
    async login() {
      await login();
    },
  };

  /** The mix for `ms`: each scenario's workers in a loop; failures are counted, not thrown. */
  async function load(ms: number, count: boolean) {
    const until = performance.now() + ms;
    const scale = CONCURRENCY / Object.values(MIX).reduce((a, b) => a + b, 0);
    await Promise.all(
      (Object.keys(MIX) as Scenario[]).flatMap((name) =>
        Array.from({ length: Math.max(1, Math.round(MIX[name] * scale)) }, async (_, worker) => {
          // Refresh chains are per worker: there are MIX.refresh of them.
          if (name === 'refresh' && worker >= chains.length) return;
          for (let n = worker; performance.now() < until; n++) {
            try {
              await scenarios[name](worker, n);
              if (count) stats[name].ok++;
            } catch (err) {
              if (!count) throw err;
              stats[name].failed++;
              if (stats[name].firstErrors.length < 3) stats[name].firstErrors.push(String(err).slice(0, 300));
            }
          }
        }),
      ),
    );
  }

  const snapshot = (when: string) => {
    if (process.env.MEMORY_BENCH_SNAPSHOT !== '1') return;
    process.kill(pid, 'SIGUSR2');
    console.log(`  heap snapshot requested (${when})`);
  };

  console.log(
    `Sesame memory benchmark — node ${process.version}, ${(await import('node:os')).cpus().length} cores, server pid ${pid}`,
  );
  console.log(`  warm-up ${WARMUP_SECONDS}s, load ${SECONDS}s at ${CONCURRENCY} in flight: ${JSON.stringify(MIX)}`);
  const fresh = rssKb(pid);
  await load(WARMUP_SECONDS * 1000, false);
  // Idle: what the node holds once warm and at rest.
  const idleSamples: number[] = [];
  for (let i = 0; i < Number(process.env.MEMORY_BENCH_IDLE_SECONDS ?? 15); i++, await sleep(1000))
    idleSamples.push(rssKb(pid));
  console.log(
    `  fresh RSS ${mb(fresh)}; after warm-up, idle: ${idleSamples.map((x) => (x / 1024).toFixed(0)).join(' ')}`,
  );
  const idle = Math.max(...idleSamples.slice(-5));
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM: the peak of the load alone
  console.log(`  idle RSS ${mb(idle)}`);
  snapshot('idle');

  const samples: Array<{ t: number; rss: number }> = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const rss = rssKb(pid);
    samples.push({ t: (performance.now() - t0) / 1000, rss });
    if (samples.length % 15 === 0) console.log(`  ${samples.at(-1)!.t.toFixed(0).padStart(4)}s  RSS ${mb(rss)}`);
  }, SAMPLE_MS);
  await load(SECONDS * 1000, true);
  clearInterval(sampler);
  const elapsed = (performance.now() - t0) / 1000;
  const final = rssKb(pid);
  const peak = Math.max(rssKb(pid, 'VmHWM'), ...samples.map((x) => x.rss));
  snapshot('end of load');
  if (process.env.MEMORY_BENCH_SNAPSHOT === '1') await sleep(30_000);

  await node.stop('SIGTERM');
  await d.destroy();

  const ratio = peak / idle;
  const failed = Object.values(stats).reduce((a, s) => a + s.failed, 0);
  console.log(`\n  ${'scenario'.padEnd(20)} ${'ops/s'.padStart(8)} ${'ok'.padStart(8)} ${'failed'.padStart(7)}`);
  for (const [name, st] of Object.entries(stats)) {
    console.log(
      `  ${name.padEnd(20)} ${(st.ok / elapsed).toFixed(1).padStart(8)} ${String(st.ok).padStart(8)} ${String(st.failed).padStart(7)}`,
    );
    for (const e of st.firstErrors) console.log(`      ${e}`);
  }
  console.log(
    `\n  idle RSS ${mb(idle)}, peak ${mb(peak)}, final ${mb(final)}, peak/idle ${ratio.toFixed(2)} (limit ${MAX_RATIO}) over ${elapsed.toFixed(0)}s`,
  );
  if (ratio > MAX_RATIO || failed) {
    console.error(
      `FAIL: ${ratio > MAX_RATIO ? `RSS peak ${ratio.toFixed(2)}× idle` : ''} ${failed ? `${failed} failed requests` : ''}`,
    );
    process.exit(1);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
