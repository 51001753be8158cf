// `npm run bench`: first the separate-process scenarios (the real `sesame serve`, its bare baseline
// and the load generator each a process of their own, interleaved: harness.ts) — today forward auth
// (forward-auth.ts) —, then the older in-process scenarios below, which issue 15 replaces.
// `npm run bench -- --only forward-auth` (or `--only in-process`) runs one part; `--json` prints one
// JSON object of the separate-process scenarios on stdout (progress on stderr; the in-process part,
// which has no JSON form, is skipped). Exits 1 if any request failed.
//
// The in-process part: throughput of the real Sesame app against a bare oidc-provider (in-memory
// adapter, dev login form, no password hashing) measured in the same run on the same machine.
// Scenarios: client-credentials tokens/s, and complete authorization-code logins/s
// (authorize → login → consent → token → userinfo); and GET /1/profile with a personal API token
// and with an OAuth access token, against a bare koa handler doing the same lookup (api-profile.ts).
// Every loop is bounded in time and count and talks only to 127.0.0.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { startServer, storageModes, createUser, createClient } from '../helpers/server.ts';
import { Agent, basicAuth } from '../helpers/agent.ts';
import { personalToken } from '../helpers/api.ts';
import { startBareProfileApi, profileCall } from './api-profile.ts';
import { forwardAuthBench, machine } from './forward-auth.ts';
import type { ScenarioResult } from './harness.ts';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const MAX_OPS = 200_000;

async function measure(name: string, concurrency: number, op: () => Promise<void>): Promise<number> {
  // Warm-up: a few operations so JIT, pools and caches are in their steady state.
  for (let i = 0; i < 3; i++) await op();
  let done = 0;
  let failed = 0;
  const deadline = performance.now() + DURATION_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && done + failed < MAX_OPS) {
        try {
          await op();
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const rate = done / ((performance.now() - start) / 1000);
  console.log(
    `  ${name.padEnd(44)} ${rate.toFixed(1).padStart(9)} /s  (${done} ok, ${failed} failed, concurrency ${concurrency})`,
  );
  if (failed) throw new Error(`${name}: ${failed} operations failed`);
  return rate;
}

function form(body: Record<string, string>) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  };
}

async function login(
  origin: string,
  authorizePath: string,
  params: Record<string, string>,
  credentials: Record<string, string>,
): Promise<string> {
  const agent = new Agent(origin);
  let page = await agent.go(
    `${authorizePath}?${new URLSearchParams({ response_type: 'code', scope: 'openid email profile', state: 'bench', ...params })}`,
  );
  page = await agent.submit(page, credentials);
  if (page.url.startsWith(origin)) page = await agent.submit(page);
  const code = new URL(page.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${page.status} ${page.url}`);
  return code;
}

/** The access token a code redeems for (client_secret_post), as a relying party asks it. */
async function accessTokenFor(
  issuer: string,
  client: { id: string; secret: string; redirectUri: string },
  code: string,
) {
  const res = await fetch(
    `${issuer}/token`,
    form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.id,
      client_secret: client.secret,
    }),
  );
  return ((await res.json()) as { access_token: string }).access_token;
}

async function bare() {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'web',
        client_secret: 'web-secret-web-secret-web-secret',
        redirect_uris: ['https://rp.example/cb'],
        grant_types: ['authorization_code'],
      },
      {
        client_id: 'svc',
        client_secret: 'svc-secret-svc-secret-svc-secret',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
      },
    ],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
  });
  server.on('request', provider.callback());
  return {
    issuer,
    cc: async () => {
      const r = await fetch(`${issuer}/token`, {
        ...form({ grant_type: 'client_credentials' }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth('svc', 'svc-secret-svc-secret-svc-secret'),
        },
      });
      if (r.status !== 200) throw new Error(`cc ${r.status}`);
      await r.arrayBuffer();
    },
    login: async () => {
      const code = await login(
        issuer,
        '/auth',
        { client_id: 'web', redirect_uri: 'https://rp.example/cb' },
        { login: 'bench-user', password: 'x' },
      );
      const client = { id: 'web', secret: 'web-secret-web-secret-web-secret', redirectUri: 'https://rp.example/cb' };
      const accessToken = await accessTokenFor(issuer, client, code);
      const ui = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      if (ui.status !== 200) throw new Error(`userinfo ${ui.status}`);
      await ui.arrayBuffer();
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function sesame(mode: 'embedded' | 'postgres') {
  const srv = await startServer({ mode });
  const user = await createUser(srv);
  const web = await createClient(srv, { type: 'web', redirectUris: ['https://rp.example/cb'] });
  const svc = await createClient(srv, { type: 'service' });
  const issuer = srv.url;
  /** A real sign-in's access token (`openid email profile`, for userinfo and /1/profile). */
  async function signInToken(): Promise<string> {
    const code = await login(
      issuer,
      '/authorize',
      { client_id: web.clientId, redirect_uri: web.redirectUri },
      { email: user.email, password: user.password },
    );
    return accessTokenFor(issuer, { id: web.clientId, secret: web.clientSecret, redirectUri: web.redirectUri }, code);
  }
  return {
    issuer,
    srv,
    userId: user.account.userId,
    personal: () => personalToken(srv, user.account, ['profile:read']),
    signInToken,
    cc: async () => {
      const r = await fetch(`${issuer}/token`, {
        ...form({ grant_type: 'client_credentials' }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(svc.clientId, svc.clientSecret),
        },
      });
      if (r.status !== 200) throw new Error(`cc ${r.status}`);
      await r.arrayBuffer();
    },
    login: async () => {
      const accessToken = await signInToken();
      const ui = await fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
      if (ui.status !== 200) throw new Error(`userinfo ${ui.status}`);
      await ui.arrayBuffer();
    },
    close: () => srv.stop(),
  };
}

/** GET /1/profile on Sesame and on the bare koa handler (same database, same store, same tokens),
 *  one after the other, then the ratio. */
async function apiProfile(s: Awaited<ReturnType<typeof sesame>>) {
  const bareApi = await startBareProfileApi({
    db: s.srv.deps.database.db,
    store: s.srv.deps.store,
    hashKey: s.srv.config.hashKey,
  });
  try {
    for (const [name, token] of [
      ['personal API token', await s.personal()],
      ['OAuth access token', await s.signInToken()],
    ] as const) {
      const bareRate = await measure(`bare koa GET /1/profile, ${name}`, 16, profileCall(bareApi.url, token, s.userId));
      const rate = await measure(`GET /1/profile, ${name}`, 16, profileCall(s.issuer, token, s.userId));
      console.log(`  ratio vs bare koa, /1/profile with the ${name}: ${(rate / bareRate).toFixed(2)}×`);
    }
  } finally {
    bareApi.close();
  }
}

/** The scenarios of harness.ts (separate processes), by the name `--only` takes. */
const SEPARATE: Record<string, (log: (line: string) => void) => Promise<ScenarioResult>> = {
  'forward-auth': forwardAuthBench,
};
const IN_PROCESS = 'in-process';

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only !== undefined && !(only in SEPARATE) && only !== IN_PROCESS)
    throw new Error(`--only: one of ${[...Object.keys(SEPARATE), IN_PROCESS].join(', ')}`);
  const log = (line: string) => (json ? process.stderr.write(`${line}\n`) : console.log(line));
  const results: Record<string, ScenarioResult> = {};
  for (const [name, bench] of Object.entries(SEPARATE)) {
    if (only && only !== name) continue;
    results[name] = await bench(log);
    log('');
  }
  const errors = Object.values(results).reduce((a, r) => a + r.errors, 0);
  if (json) {
    console.log(JSON.stringify({ ...machine(), scenarios: results }, null, 2));
    if (!only) log('(the in-process scenarios have no JSON form: not run with --json)');
  } else if (!only || only === IN_PROCESS) await inProcess();
  if (errors) throw new Error(`${errors} requests failed`);
}

async function inProcess() {
  console.log(`Sesame benchmark (in-process) — ${DURATION_MS / 1000}s per scenario, node ${process.version}\n`);
  const base = await bare();
  console.log('bare oidc-provider (in-memory adapter, dev login, no password hash):');
  const baseCc = await measure('client_credentials tokens', 16, base.cc);
  const baseLogin = await measure('authorization-code logins (incl. userinfo)', 8, base.login);
  base.close();

  for (const mode of storageModes()) {
    const s = await sesame(mode);
    console.log(`\nSesame (${mode === 'embedded' ? 'PGlite + in-process store' : 'PostgreSQL + Redis'}):`);
    const cc = await measure('client_credentials tokens', 16, s.cc);
    const lg = await measure('authorization-code logins (incl. userinfo)', 8, s.login);
    console.log(
      `  ratio vs bare: tokens ${(cc / baseCc).toFixed(2)}×, logins ${(lg / baseLogin).toFixed(2)}× (logins include one argon2id verification: m=19 MiB, t=2)`,
    );
    await apiProfile(s);
    await s.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
