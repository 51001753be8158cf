// The forward-auth benchmark (issue 14): checks per second of the endpoint a reverse proxy asks on
// every request of a WebDAV/CalDAV/CardDAV client (GET /auth/forward, Basic login:app-password),
// against a bare koa app answering 200 on the same path — a sync client must never notice Sesame.
// Everything is a process of its own (issue 15 item 1): the real `sesame serve` (as `npm start` runs
// it), the bare koa app (bare-koa.ts), and the load generator (load.ts); runs are interleaved.
//
// The node runs on DATABASE_URL + REDIS_URL when both are set (a fresh database and key prefix of
// this run's own, dropped after), else on the embedded default (PGlite under a temporary DATA_DIR).
// Its user has 2FA on (an authenticator app, enrolled through the Security page) and one app password
// (made on the App passwords page), as a real user's sync tool has.
//
// `npm run bench -- --only forward-auth [--json]`, or `tsx test/bench/forward-auth.ts [--json]`.
// BENCH_SECONDS (5) per run, BENCH_PAIRS (3), BENCH_CONNECTIONS (64), BENCH_WARMUP_SECONDS (2),
// BENCH_LOAD (autocannon | wrk | node; default: the first installed). Exits 1 on any error.
// BENCH_NODE_OPTIONS is handed to the Sesame node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import crypto from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { generateSync } from 'otplib';
import { Agent, decodeEntities, plainBasic, type Page } from '../helpers/agent.ts';
import { startNode } from '../helpers/processes.ts';
import { benchDeployment, startScript } from './procs.ts';
import { loadGenerator } from './load.ts';
import { formatResult, runScenario, type ScenarioResult } from './harness.ts';

const PASSWORD = 'correct horse battery staple 42';
export const FORWARD_AUTH_PATH = '/auth/forward';

export interface BenchSettings {
  seconds: number;
  pairs: number;
  connections: number;
  warmupSeconds: number;
}

export function benchSettings(): BenchSettings {
  const n = (name: string, fallback: number) => {
    const v = Number(process.env[name] ?? fallback);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: a positive number`);
    return v;
  };
  return {
    seconds: n('BENCH_SECONDS', 5),
    pairs: n('BENCH_PAIRS', 3),
    connections: n('BENCH_CONNECTIONS', 64),
    warmupSeconds: n('BENCH_WARMUP_SECONDS', 2),
  };
}

function expectPage(page: Page, what: string, ok: (p: Page) => boolean): Page {
  if (!ok(page)) throw new Error(`${what}: ${page.status} ${page.url}\n${page.body.slice(0, 1500)}`);
  return page;
}

/** The authenticator app's code for now (RFC 6238: SHA-1, 6 digits, 30 s), on the real clock the
 *  server process runs on. */
const totpNow = (secret: string) =>
  generateSync({ secret, epoch: Math.floor(Date.now() / 1000), period: 30, digits: 6, algorithm: 'sha1' });

/** What a user does in a browser: signs in to the account pages, turns 2FA on with an authenticator
 *  app, and makes an app password. Returns it, as the page shows it once. */
async function appPasswordThroughPages(origin: string, email: string): Promise<string> {
  const agent = new Agent(origin);
  const login = await agent.go('/account/security');
  expectPage(login, 'login page', (p) => p.body.includes('name="password"'));
  const security = await agent.submit(login, { email, password: PASSWORD }, '/login');
  expectPage(security, 'sign-in', (p) => p.url === `${origin}/account/security`);

  // Away from a step boundary, so the code typed is still "now" when the server checks it.
  const into = (Date.now() / 1000) % 30;
  if (into > 27) await new Promise((r) => setTimeout(r, (31 - into) * 1000));
  const totp = expectPage(await agent.go('/account/security/totp/new'), 'TOTP enrolment page', (p) =>
    p.body.includes('id="totp-secret"'),
  );
  const secret = decodeEntities(/<code id="totp-secret">([^<]+)<\/code>/.exec(totp.body)![1]!).replace(/\s/g, '');
  const enrolled = await agent.submit(totp, { name: 'Bench phone', code: totpNow(secret) }, '/account/security/totp"');
  expectPage(enrolled, 'TOTP enrolment', (p) => p.status === 200 && !p.url.endsWith('/totp/new'));

  const list = expectPage(await agent.go('/account/security/app-passwords'), 'App passwords page', (p) =>
    p.body.includes('action="/account/security/app-passwords"'),
  );
  const created = await agent.submit(list, { name: 'DAVx5 (benchmark)' }, '/account/security/app-passwords"');
  const shown = /<code id="app-password">([^<]+)<\/code>/.exec(created.body)?.[1];
  expectPage(created, 'app password shown once', () => Boolean(shown));
  return decodeEntities(shown!);
}

/** Sets up, measures, tears down. `log` gets the progress lines. */
export async function forwardAuthBench(
  log: (line: string) => void,
  over: Partial<BenchSettings> = {},
): Promise<ScenarioResult & { storage: string }> {
  const settings = { ...benchSettings(), ...over };
  const generator = loadGenerator();
  const d = await benchDeployment('fwdauth');
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const email = `bench-${crypto.randomBytes(4).toString('hex')}@example.test`;
    // Before the node starts: on the embedded default, PGlite is one process's.
    await d.cli(['user', 'create', '--email', email, '--password', PASSWORD, '--name', 'Ada Lovelace']);
    // The node as `npm start` runs it (`node src/bin/sesame.js serve`); info logs say nothing per request.
    const nodeOptions = process.env.BENCH_NODE_OPTIONS;
    const node = await startNode({
      env: { ...d.env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
      listenWithinMs: 180_000,
    });
    stops.push(() => node.stop('SIGTERM'));
    const appPassword = await appPasswordThroughPages(node.url, email);
    const authorization = plainBasic(email, appPassword);

    // The check answers as a proxy needs it before anything is measured (and the account password,
    // with 2FA on, does not pass).
    const check = await fetch(`${node.url}${FORWARD_AUTH_PATH}`, { headers: { authorization } });
    if (check.status !== 200 || check.headers.get('x-sesame-email') !== email)
      throw new Error(`forward auth with the app password: ${check.status} ${await check.text()}`);
    const refused = await fetch(`${node.url}${FORWARD_AUTH_PATH}`, {
      headers: { authorization: plainBasic(email, PASSWORD) },
    });
    if (refused.status !== 401) throw new Error(`the account password with 2FA on: ${refused.status}, not 401`);

    const bare = await startScript('test/bench/bare-koa.ts');
    stops.push(() => bare.stop());
    log(
      `forward auth, ${d.label}: GET ${FORWARD_AUTH_PATH} with an app password (2FA on), ${settings.connections} connections, ` +
        `${settings.pairs} pairs × ${settings.seconds}s, load from ${generator} in its own process`,
    );
    const result = await runScenario({
      scenario: 'forward-auth',
      baseline: {
        label: 'bare koa',
        pid: bare.pid,
        request: { url: `${bare.url}${FORWARD_AUTH_PATH}`, headers: { authorization } },
      },
      subject: {
        label: 'sesame',
        pid: node.child.pid!,
        request: { url: `http://127.0.0.1:${node.port}${FORWARD_AUTH_PATH}`, headers: { authorization } },
      },
      generator,
      load: { connections: settings.connections, seconds: settings.seconds },
      pairs: settings.pairs,
      warmupSeconds: settings.warmupSeconds,
      log,
    });
    for (const line of formatResult(result)) log(line);
    return { ...result, storage: d.mode };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await d.destroy();
  }
}

/** The run's context for a JSON report. */
export function machine() {
  return { node: process.version, cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', platform: process.platform };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const json = process.argv.includes('--json');
  const log = (line: string) => (json ? process.stderr.write(`${line}\n`) : console.log(line));
  forwardAuthBench(log).then(
    (r) => {
      if (json) console.log(JSON.stringify({ ...machine(), scenarios: { 'forward-auth': r } }, null, 2));
      if (r.errors) console.error(`FAIL: ${r.errors} requests failed`);
      process.exit(r.errors ? 1 : 0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
