// input.fuzz-no-5xx: every route (each router's GET and POST paths, read from the routers
// themselves; the REST API's operations are walked by test/api.test.ts, api.bad-input-never-500),
// every page's query string, every field of every form a page shows (signed in and out), the
// sign-in pages of an authorization, the device API and the provider's endpoints get NUL,
// invalid UTF-8, very long strings, unicode, out-of-range numbers and dates, wrong types (repeated
// and bracketed keys) and prototype keys. None may answer 5xx or log an error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  storageModes,
  primaryStorageMode,
  createClient,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, basicAuth, decodeEntities, type Page } from './helpers/agent.ts';
import { signedInUser } from './helpers/mfa.ts';
import { createAccountRouters } from '../src/account/routes.ts';
import { createInteractionRouter } from '../src/interaction/router.ts';
import { createDeviceRouter } from '../src/kauth/device-routes.ts';
import { createHealthRouter } from '../src/http/health.ts';
import { createApiDocsRouter } from '../src/api/docs-routes.ts';
import { createOrganizationRouters } from '../src/organizations/routes.ts';
import { organizations } from '../src/db/schema.ts';

const enc = encodeURIComponent;
const unsignedJwt = (payload: Record<string, unknown>) =>
  ['{"alg":"RS256"}', JSON.stringify(payload), 'x'].map((p) => Buffer.from(p).toString('base64url')).join('.');

/** The bytes a percent-encoded value stands for (not necessarily UTF-8). */
function bytes(v: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '%' && /^[0-9A-F]{2}$/i.test(v.slice(i + 1, i + 3))) {
      out.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(v[i]!));
  }
  return Buffer.from(out);
}

/** Values as they go on the wire (already percent-encoded): the ones the edge refuses … */
const REFUSED = ['%00', 'a%00b', '%C3%28', '%FF', '%ED%A0%80', enc(unsignedJwt({ aud: 'a\0', nonce: 'n\0' }))];
/** … and the ones that are valid text but odd: each must get an answer the form or page gives. */
const ODD = [
  enc('x'.repeat(3000)),
  enc('🦄 Zoë Ünïcödé \u202e ﷽ 𝕏'),
  '-1',
  '1e309',
  '99999999999999999999',
  'NaN',
  '9999-12-31',
  '2026-02-31',
  '0000-00-00',
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'toString',
  '',
  enc('{"a":"\\u0000"}'),
];
const VALUES = [...REFUSED, ...ODD];
/** Sent all at once to every page (a page ignores the keys it does not read). */
const QUERY_KEYS = [
  'from',
  'to',
  'app',
  'type',
  'q',
  'page',
  'done',
  'token',
  'return',
  'email',
  'method',
  'factor',
  'state',
  'code',
  'ui_locales',
  'deleted',
  '__proto__',
  'constructor',
];
/** The keys each page reads (grep ctx.query in src), each sent alone with every odd value. */
const KEYS_READ: [RegExp, string[]][] = [
  [/^\/account\/activity/, ['from', 'to', 'app', 'type', 'q', 'page']],
  [/^\/account\/organizations\/[^/]+\/members$/, ['q', 'role', 'twofa', 'state', 'done']],
  [/^\/account\/organizations/, ['done']],
  [/^\/account\/(sessions|profile|security)/, ['done']],
  // Read for every page by one middleware (requireAccount, the locale): tried on one page each.
  [/^\/account$/, ['state', 'code', 'return', 'ui_locales']],
  [/^\/(unlock|verify-email|confirm-email-change|reset-password)/, ['token']],
  [/^\/(signup|verify-email)/, ['return']],
  [/^\/forgot/, ['email']],
  [/^\/interaction\//, ['method', 'factor']],
  [/^\/$/, ['deleted', 'ui_locales']],
];
const keysRead = (path: string) => KEYS_READ.filter(([re]) => re.test(path)).flatMap(([, keys]) => keys);
/** Wrong types: a repeated key is an array, brackets an object where a parser nests. */
const wrongTypes = (key: string) => [`${key}=a&${key}=b`, `${key}[]=a`, `${key}[a]=b`];

interface Result {
  what: string;
  status: number;
}

describe.each(storageModes())('fuzz (%s storage)', (mode) => {
  let srv: TestServer;
  const lines: string[] = [];
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({
      mode,
      env: { LOG_LEVEL: 'warn', REAUTH_WINDOW_SECONDS: '3600' },
      logTo: { write: (l) => void lines.push(l) },
    });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const results: Result[] = [];
  /** Form actions already fuzzed. */
  const fuzzed = new Set<string>();
  const failures = () => results.filter((r) => r.status >= 500);
  const errorLogs = () =>
    lines.map((l) => JSON.parse(l) as { level: number; msg: string; path?: string }).filter((l) => l.level >= 50);

  /** Sends one raw request (the body and the query string are sent exactly as given). */
  async function send(
    agent: Agent | undefined,
    method: string,
    path: string,
    init: { body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    if (agent?.cookies.size) headers.cookie = agent.cookieHeader();
    if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/x-www-form-urlencoded';
    let status: number;
    try {
      const body = typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body);
      const res = await fetch(`${srv.url}${path}`, { method, headers, body, redirect: 'manual' });
      await res.arrayBuffer();
      status = res.status;
    } catch (err) {
      status = 599; // the server hung up
      results.push({ what: `${method} ${path.slice(0, 200)} (${String(err)})`, status });
      return status;
    }
    results.push({ what: `${method} ${path.slice(0, 200)} ${String(init.body ?? '').slice(0, 200)}`, status });
    return status;
  }

  /** Runs requests a few at a time (two cores shared with others). */
  async function all(tasks: (() => Promise<unknown>)[], width = 6) {
    const queue = [...tasks];
    await Promise.all(
      Array.from({ length: width }, async () => {
        for (let t = queue.shift(); t; t = queue.shift()) await t();
      }),
    );
  }

  function routes(method: 'GET' | 'POST'): string[] {
    const routers = [
      createHealthRouter(srv.deps),
      createInteractionRouter(srv.deps),
      createDeviceRouter(srv.deps),
      createApiDocsRouter(),
      ...createOrganizationRouters(srv.deps),
      ...createAccountRouters(srv.deps),
    ];
    const paths = routers.flatMap((r) =>
      (r.stack as { path: string; methods: string[] }[]).filter((l) => l.methods.includes(method)).map((l) => l.path),
    );
    return [...new Set(paths)].filter((p) => p !== '/1/devices/events'); // a stream that stays open
  }

  /** A route's path with its parameters (:id, :uid, :token) set to `value`. */
  const withParams = (path: string, value: string) => path.replace(/:\w+/g, value).replace(/\{[^}]*\}/g, '');

  /** A plausible value for each field, so that one bad field is what a request gets wrong: what
   *  the page filled in, else a likely value for its name. */
  const PLAUSIBLE: Record<string, string> = {
    email: 'fuzz@example.test',
    email_again: 'fuzz@example.test',
    password: STRONG_PASSWORD,
    current_password: STRONG_PASSWORD,
    new_password: 'another long passphrase 2026',
    new_password_again: 'another long passphrase 2026',
    given_name: 'Ada',
    family_name: 'Lovelace',
    name: 'Fuzz',
    type: 'web',
    redirect_uris: 'https://fuzz.example/cb',
    country: 'CH',
    phone: '079 123 45 67',
    recovery_email: 'recovery@example.test',
    locale: 'en',
    zoneinfo: 'Europe/Zurich',
    code: '123456',
    lockout_threshold: '10',
  };

  function formsOf(page: Page) {
    return [...page.body.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)]
      .filter((m) => /method="post"/i.test(m[1]!))
      .map((m) => {
        const action = decodeEntities(/action="([^"]*)"/.exec(m[1]!)?.[1] ?? new URL(page.url).pathname);
        const html = m[2]!;
        const names = [...html.matchAll(/<(?:input|select|textarea)[^>]*name="([^"]+)"/g)].map((n) => n[1]!);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
        const filled = Object.fromEntries(
          [...html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((h) => [
            h[1]!,
            decodeEntities(h[2]!),
          ]),
        );
        const hidden = Object.fromEntries(
          [...html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((h) => [
            h[1]!,
            decodeEntities(h[2]!),
          ]),
        );
        const plausible = Object.fromEntries(
          [...new Set(names)].map((n) => [n, filled[n] || PLAUSIBLE[n] || (hidden[n] ?? 'x')]),
        );
        return { action: new URL(action, page.url).pathname, names: [...new Set(names)], csrf, hidden, plausible };
      });
  }

  /** Every field of every form on `pagePath`: every value in one field at a time (the others
   *  plausible) and in all fields at once, wrong types, and prototype keys as field names. */
  async function fuzzForms(agent: Agent, pagePath: string, keepSignedIn?: () => Promise<void>) {
    const page = await agent.go(pagePath);
    // Each form once (several pages show the same one); none that ends the session it runs in.
    const forms = formsOf(page).filter(
      (f) => !/\/(end|end-others|delete)$|^\/logout/.test(f.action) && !fuzzed.has(f.action),
    );
    for (const f of forms) fuzzed.add(f.action);
    for (const f of forms) {
      const fields = f.names.filter((n) => n !== '_csrf');
      /** Plausible fields and a valid CSRF token, but for the fields being fuzzed. */
      const base = (...skip: string[]) =>
        Object.entries({ ...f.plausible, ...(f.csrf ? { _csrf: decodeEntities(f.csrf) } : {}) })
          .filter(([k]) => !skip.includes(k))
          .map(([k, v]) => `${enc(k)}=${enc(v)}`)
          .join('&');
      const post = (body: string) => () => send(agent, 'POST', f.action, { body });
      const tasks: (() => Promise<unknown>)[] = [];
      for (const value of VALUES)
        tasks.push(post(`${base(...fields)}&${fields.map((n) => `${enc(n)}=${value}`).join('&')}`));
      for (const name of fields) {
        for (const value of VALUES) tasks.push(post(`${base(name)}&${enc(name)}=${value}`));
        for (const shape of wrongTypes(enc(name))) tasks.push(post(`${base(name)}&${shape}`));
      }
      for (const key of ['__proto__', 'constructor', 'hasOwnProperty', '__proto__[x]'])
        tasks.push(post(`${base()}&${enc(key)}=x`));
      await all(tasks);
      await keepSignedIn?.();
    }
  }

  /** Every value in every query key at once, and each odd value alone in each key the page reads. */
  async function fuzzQuery(agent: Agent | undefined, path: string) {
    const get = (query: string) => () => send(agent, 'GET', `${path}?${query}`);
    const tasks = VALUES.map((value) => get(QUERY_KEYS.map((k) => `${k}=${value}`).join('&')));
    tasks.push(get(QUERY_KEYS.flatMap(wrongTypes).join('&')));
    for (const key of keysRead(path)) {
      for (const value of ODD) tasks.push(get(`${key}=${value}`));
      for (const shape of wrongTypes(key)) tasks.push(get(shape));
    }
    await all(tasks);
  }

  it('input.fuzz-no-5xx: signed out, every route, query string and form', { timeout: 240_000 }, async () => {
    const agent = new Agent(srv.url);
    const gets = routes('GET');
    // Signed out, the account pages only send to sign-in: they are fuzzed signed in below.
    const pages = gets.filter((p) => !p.includes(':'));
    for (const path of pages.filter((p) => !p.startsWith('/account'))) await fuzzQuery(agent, path);
    await fuzzQuery(agent, '/account/activity');
    await all(
      gets.filter((p) => p.includes(':')).flatMap((p) => VALUES.map((v) => () => send(agent, 'GET', withParams(p, v)))),
    );
    for (const path of pages.filter((p) => !p.startsWith('/account'))) await fuzzForms(agent, path);
    // POST routes whose form no page showed: the usual field names.
    const usual = ['email', 'password', 'name', 'given_name', 'code', 'token', 'method', 'uid', 'return'];
    await all(
      routes('POST').flatMap((p) =>
        VALUES.map(
          (v) => () => send(agent, 'POST', withParams(p, v), { body: usual.map((n) => `${n}=${v}`).join('&') }),
        ),
      ),
    );
    expect([...fuzzed]).toEqual(expect.arrayContaining(['/signup', '/forgot-password', '/forgot-login']));
    expect(failures()).toEqual([]);
    expect(errorLogs()).toEqual([]);
  });

  // Every account page and form, once: in the primary storage mode only (the longest test of the
  // suite; input handling does not depend on the store, and the signed-out walk runs in both).
  it.runIf(mode === primaryStorageMode()[0])(
    'input.fuzz-no-5xx: signed in, every account page, query string and form',
    { timeout: 480_000 },
    async () => {
      const user = await signedInUser(srv);
      await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 50 });
      let agent = user.agent;
      const keepSignedIn = async () => {
        if ((await agent.go('/account')).url === `${srv.url}/account`) return;
        const fresh = new Agent(srv.url);
        const login = await fresh.go('/account');
        await fresh.submit(login, { email: user.email, password: user.password }, '/login');
        agent = fresh;
      };
      // An application and a second factor, so that their pages and forms exist.
      const created = await agent.submit(
        await agent.go('/account/applications/new'),
        { name: 'Fuzzed', type: 'web', redirect_uris: 'https://fuzz.example/cb' },
        // The application form, not the organization switcher before it on every account page.
        '/account/applications"',
      );
      expect(created.status).toBeLessThan(400);
      const [app] = await srv.deps.repos.applications.listByOwner(user.account.id);
      // The organization pages: the user's own organization, and the user as its member.
      const org = (await srv.deps.repos.organizations.personalOf(user.account.id))!;
      const pages = routes('GET')
        .filter((p) => p.startsWith('/account'))
        .map((p) =>
          p
            .replace(/:id\b/, app!.id)
            .replace(/:orgId/, org.id)
            .replace(/:accountId/, user.account.id),
        )
        .filter((p) => !p.includes(':'));
      for (const path of pages) await fuzzQuery(agent, path);
      // Fuzzing the security console's form turns "require 2FA" on with its plausible values, which
      // would then send every later page to set up 2FA: each round starts without it.
      const noRequired2fa = () => srv.deps.database.db.update(organizations).set({ require2fa: false });
      for (const path of pages) {
        await fuzzForms(agent, path, async () => {
          await noRequired2fa();
          await keepSignedIn();
        });
        await noRequired2fa();
        await keepSignedIn();
      }
      expect([...fuzzed]).toEqual(
        expect.arrayContaining([
          '/account/profile',
          '/account/applications',
          '/account/security/totp',
          '/account/profile/email',
          '/account/organizations/new',
          `/account/organizations/${org.id}/edit`,
        ]),
      );
      expect(failures()).toEqual([]);
      expect(errorLogs()).toEqual([]);
    },
  );

  it('input.fuzz-no-5xx: the sign-in pages of an authorization and the device API', async () => {
    const agent = new Agent(srv.url);
    const login = await agent.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid', state: 's' })}`,
    );
    const path = new URL(login.url).pathname;
    await fuzzQuery(agent, path);
    await fuzzForms(agent, path);
    const json = [
      '{"request":"\\u0000"}',
      '{"request":"\\ud800"}',
      '{"decision":"approve","number":1e309}',
      '{"__proto__":{"x":1}}',
      '[1,2]',
      '"x"',
      '{',
    ];
    const bodies = [
      ...VALUES.map((v) => Buffer.concat([Buffer.from('{"request":"'), bytes(v), Buffer.from('"}')])),
      ...json.map((j) => Buffer.from(j)),
      Buffer.from([0x7b, 0xff, 0x7d]),
    ];
    await all(
      ['/1/devices/enrol/abc', '/1/devices/challenges/abc', '/1/devices/enrol/%00'].flatMap((p) =>
        bodies.map((b) => () => send(undefined, 'POST', p, { body: b, type: 'application/json' })),
      ),
    );
    expect([...fuzzed].some((a) => a.endsWith('/login'))).toBe(true);
    expect(failures()).toEqual([]);
    expect(errorLogs()).toEqual([]);
  });

  it('input.fuzz-no-5xx: the provider endpoints, each parameter', { timeout: 120_000 }, async () => {
    const authorizeParams = {
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
    };
    const keys = [
      ...Object.keys(authorizeParams),
      'nonce',
      'prompt',
      'max_age',
      'ui_locales',
      'acr_values',
      'claims',
      'request',
      'id_token_hint',
      'login_hint',
      'code_challenge',
      'code_challenge_method',
      'response_mode',
    ];
    const query = (key: string, value: string) =>
      [...Object.entries(authorizeParams).filter(([k]) => k !== key), [key, null]]
        .map(([k, v]) => `${k}=${v === null ? value : enc(v!)}`)
        .join('&');
    const auth = { authorization: basicAuth(web.clientId, web.clientSecret) };
    const tasks: (() => Promise<unknown>)[] = [];
    for (const value of VALUES) {
      for (const key of keys) {
        tasks.push(() => send(undefined, 'GET', `/authorize?${query(key, value)}`));
        tasks.push(() => send(undefined, 'POST', '/authorize', { body: query(key, value) }));
        tasks.push(() => send(undefined, 'POST', '/par', { body: query(key, value), headers: auth }));
      }
      for (const body of [
        `grant_type=authorization_code&code=${value}&redirect_uri=${enc(web.redirectUri)}`,
        `grant_type=authorization_code&code=abc&redirect_uri=${value}&code_verifier=${value}`,
        `grant_type=refresh_token&refresh_token=${value}`,
        `grant_type=client_credentials&scope=${value}`,
        `grant_type=${value}`,
      ]) {
        tasks.push(() => send(undefined, 'POST', '/token', { body, headers: auth }));
        tasks.push(() =>
          send(undefined, 'POST', '/token', { body: `${body}&client_id=${value}&client_secret=${value}` }),
        );
      }
      const basic = Buffer.concat([bytes(value), Buffer.from(':s')]).toString('base64');
      tasks.push(() =>
        send(undefined, 'POST', '/token', {
          body: 'grant_type=client_credentials',
          headers: { authorization: `Basic ${basic}` },
        }),
      );
      for (const path of ['/token/introspection', '/token/revocation'])
        tasks.push(() =>
          send(undefined, 'POST', path, { body: `token=${value}&token_type_hint=${value}`, headers: auth }),
        );
      for (const key of [
        'id_token_hint',
        'post_logout_redirect_uri',
        'state',
        'client_id',
        'ui_locales',
        'logout',
        'xsrf',
      ]) {
        tasks.push(() => send(undefined, 'GET', `/logout?${key}=${value}`));
        tasks.push(() => send(undefined, 'POST', '/logout', { body: `${key}=${value}` }));
      }
      tasks.push(() => send(undefined, 'GET', `/oauth2/userinfo?access_token=${value}`));
      tasks.push(() => send(undefined, 'POST', '/oauth2/userinfo', { body: `access_token=${value}` }));
      tasks.push(() => send(undefined, 'GET', `/jwks?x=${value}`));
      tasks.push(() => send(undefined, 'GET', `/.well-known/openid-configuration?${value}=${value}`));
    }
    for (const bearer of ['%00', 'abc', unsignedJwt({ sub: 'a\0' })])
      tasks.push(() => send(undefined, 'GET', '/oauth2/userinfo', { headers: { authorization: `Bearer ${bearer}` } }));
    await all(tasks);
    expect(failures()).toEqual([]);
    expect(errorLogs()).toEqual([]);
  });
});
