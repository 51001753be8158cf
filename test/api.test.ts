// The REST API's edge, whatever its resources: the envelope, the unversioned prefix, bearer tokens,
// the per-token rate limit across nodes, the OpenAPI document, and bad input on every operation the
// document lists. Every call goes through test/helpers/api.ts, which checks each answer against the
// document (its status documented, its body matching).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { startServer, createUser, primaryStorageMode, storageModes, type TestServer } from './helpers/server.ts';
import { api, personalToken } from './helpers/api.ts';
import { testClock } from './helpers/clock.ts';
import { API_SCOPES } from '../src/api/scopes.ts';
import { newApiToken, looksLikeApiToken, API_TOKEN_PREFIX } from '../src/api/token-format.ts';

type Json = Record<string, any>;

/** Moves the test clock to the start of the next minute: a fresh rate-limit window. */
function nextMinute() {
  const now = testClock.now();
  testClock.advance(60_000 - (now % 60_000) + 10);
}

describe.each(storageModes())('REST API edge (%s storage)', (mode) => {
  let srv: TestServer;
  let token: string;
  beforeAll(async () => {
    srv = await startServer({ mode });
    const { account } = await createUser(srv);
    token = await personalToken(srv, account, ['profile:read']);
  }, 60_000);
  afterAll(() => srv?.stop());

  it('api.envelope: success and errors in the Infomaniak envelope; /api/… is /1/…', async () => {
    const one = await api(srv, 'GET', '/1/profile', { token });
    expect(one.status).toBe(200);
    expect(one.body.result).toBe('success');
    expect(Number.isInteger(one.body.data.id)).toBe(true);
    const unversioned = await api(srv, 'GET', '/api/profile', { token });
    expect(unversioned.body).toEqual(one.body);

    const none = await api(srv, 'GET', '/1/no-such-thing', { token });
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ result: 'error', error: { code: 'not_found', description: expect.any(String) } });
    const method = await api(srv, 'PUT', '/1/profile', { token });
    expect(method.status).toBe(405);
    expect(method.body.error.code).toBe('method_not_allowed');
    // A method no operation knows at all (koa-router answers 501 for those): still 405, in the envelope.
    const unknown = await api(srv, 'PROPFIND', '/1/profile', { token });
    expect([unknown.status, unknown.body.error.code]).toEqual([405, 'method_not_allowed']);
    // Paths match without regard to case, as the routers do; the device API keeps its own.
    expect((await api(srv, 'GET', '/API/Profile', { token })).status).toBe(200);
    const device = await fetch(`${srv.url}/1/DEVICES/me`, { headers: { accept: 'application/json' } });
    expect(await device.json()).toMatchObject({ error: 'device_auth_required' });
    expect(one.headers.get('cache-control')).toBe('no-store');
  });

  it("api.descriptions-in-the-callers-language: Accept-Language first, else the account's own language", async () => {
    const { account } = await createUser(srv, { locale: 'de' });
    const german = await personalToken(srv, account, ['profile:read']);
    const own = await api(srv, 'PATCH', '/1/profile', { token: german, body: { timezone: 'Mars/Olympus' } });
    expect(own.body.error.description).toBe('Dieses Token erlaubt diesen Vorgang nicht.');
    const asked = await api(srv, 'PATCH', '/1/profile', {
      token: german,
      body: {},
      headers: { 'accept-language': 'fr' },
    });
    expect(asked.body.error.description).toBe('Ce jeton ne permet pas cette opération.');
  });

  it('api.prototype-keys-are-fields: a body field named __proto__ or constructor is refused by name', async () => {
    const { account } = await createUser(srv);
    const writer = await personalToken(srv, account, ['profile:write']);
    const r = await api(srv, 'PATCH', '/1/profile', {
      token: writer,
      raw: { type: 'application/json', data: '{"__proto__": {"x": 1}, "constructor": 1}' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.errors.map((e: { context: { attribute: string } }) => e.context.attribute).sort()).toEqual([
      '__proto__',
      'constructor',
    ]);
  });

  it('api.no-token-or-bad-token: 401 not_authorized with WWW-Authenticate, the same for every kind of bad token', async () => {
    const forged = newApiToken();
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` },
      { authorization: 'Bearer some-opaque-access-token-that-was-never-issued' },
    ];
    const bodies = new Set<string>();
    for (const headers of cases) {
      const r = await api(srv, 'GET', '/1/profile', { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="sesame", error="invalid_token"');
      bodies.add(r.text);
    }
    // Nothing tells a forged token from a mistyped one, a missing one or an unknown access token.
    expect(bodies.size).toBe(1);
  });

  it('api.token-format: a recognisable prefix, 256 random bits, a checksum that catches a typo', () => {
    const t = newApiToken();
    expect(t.startsWith(API_TOKEN_PREFIX)).toBe(true);
    expect(looksLikeApiToken(t)).toBe(true);
    const typo = `${t.slice(0, 20)}${t[20] === 'x' ? 'y' : 'x'}${t.slice(21)}`;
    expect(looksLikeApiToken(typo)).toBe(false);
    expect(new Set(Array.from({ length: 50 }, newApiToken)).size).toBe(50);
  });

  it('api.token-stored-as-hmac: the api_tokens table holds an HMAC, never the token', async () => {
    const { account } = await createUser(srv);
    const t = await personalToken(srv, account, ['profile:read']);
    const rows = await srv.deps.database.db.execute(sql`SELECT row_to_json(t)::text AS j FROM api_tokens t`);
    const text = JSON.stringify((rows as unknown as { rows: unknown[] }).rows);
    expect(text).not.toContain(t);
    expect(text).not.toContain(t.slice(API_TOKEN_PREFIX.length, API_TOKEN_PREFIX.length + 40));
    expect(text).toContain('hmac-sha256:');
  });

  it('api.cors: a web page may call the API with a bearer token (no cookie is read)', async () => {
    const pre = await fetch(`${srv.url}/1/profile`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
    const r = await api(srv, 'GET', '/1/profile', { token, headers: { origin: 'https://spa.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
  });

  it('api.no-cookie-auth: a signed-in browser session is not an API credential', async () => {
    // The account pages' session cookie, sent without a bearer token, gets 401 like no credential.
    const r = await api(srv, 'GET', '/1/profile', { headers: { cookie: 'sesame.session=anything' } });
    expect(r.status).toBe(401);
  });
});

describe.each(primaryStorageMode())('REST API rate limit (%s storage)', (mode) => {
  // Two nodes on one database and one store, as in production; the limit is the operator's setting.
  let a: TestServer;
  let b: TestServer;
  const shared = { storePrefix: `sesame-test:rl-${crypto.randomBytes(4).toString('hex')}:` };
  beforeAll(async () => {
    const env = { RATE_LIMIT_API_PER_MINUTE: '60' };
    a = await startServer({ mode, env, ...shared });
    // The embedded default is one node by design (PGlite and the in-process store live in it).
    b = mode === 'postgres' ? await startServer({ mode, env, ...shared }) : a;
  }, 60_000);
  afterAll(async () => {
    if (b !== a) await b?.stop();
    await a?.stop();
  });

  it.skipIf(mode !== 'postgres')(
    'api.rate-limit-60-per-minute: 60 calls a minute per token across two nodes, then 429 with Retry-After; other tokens unaffected',
    async () => {
      const { account } = await createUser(a);
      const t = await personalToken(a, account, ['profile:read']);
      const other = await personalToken(a, account, ['profile:read']);
      nextMinute();
      const remaining: number[] = [];
      for (let i = 0; i < 60; i++) {
        const r = await api(i % 2 ? b : a, 'GET', '/1/profile', { token: t });
        expect(r.status).toBe(200);
        expect(r.headers.get('ratelimit-limit')).toBe('60');
        remaining.push(Number(r.headers.get('ratelimit-remaining')));
        const reset = Number(r.headers.get('ratelimit-reset'));
        expect(reset).toBeGreaterThan(0);
        expect(reset).toBeLessThanOrEqual(60);
      }
      expect(remaining).toEqual(Array.from({ length: 60 }, (_, i) => 59 - i));
      for (const node of [a, b]) {
        const over = await api(node, 'GET', '/1/profile', { token: t });
        expect(over.status).toBe(429);
        expect(over.body.error.code).toBe('rate_limited');
        expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(over.headers.get('ratelimit-remaining')).toBe('0');
      }
      // Another token of the same user has its own 60.
      expect((await api(b, 'GET', '/1/profile', { token: other })).status).toBe(200);
      // A sliding window: just after the minute turns, the last minute's calls still count…
      nextMinute();
      expect((await api(a, 'GET', '/1/profile', { token: t })).status).toBe(429);
      // … and a minute later they no longer do.
      nextMinute();
      expect((await api(a, 'GET', '/1/profile', { token: t })).status).toBe(200);
    },
  );

  it('api.rate-limit-per-ip-without-token: guessing tokens from one address is limited too', async () => {
    nextMinute();
    // The test client has read the OpenAPI document from this address already (public: counted too).
    let limited = 0;
    for (let i = 0; i < 62; i++) {
      const r = await api(a, 'GET', '/1/profile', { token: newApiToken() });
      if (r.status === 429) limited++;
      else expect(r.status).toBe(401);
    }
    expect(limited).toBeGreaterThan(0);
    // Whatever else the address sends is counted too and refused now: unknown addresses, bad input.
    for (const path of ['/1/no-such-thing', '/1/profile?with=%00', '/api/openapi.json']) {
      const r = await api(a, 'GET', path);
      expect([r.status, r.body.error.code, r.headers.get('ratelimit-remaining')]).toEqual([429, 'rate_limited', '0']);
    }
    // A valid token is counted on its own, not on the address.
    const { account } = await createUser(a);
    expect(
      (await api(a, 'GET', '/1/profile', { token: await personalToken(a, account, ['profile:read']) })).status,
    ).toBe(200);
  });
});

describe.each(primaryStorageMode())('REST API OpenAPI document and bad input (%s storage)', (mode) => {
  let srv: TestServer;
  let doc: Json;
  let token: string;
  const errors: string[] = [];
  beforeAll(async () => {
    srv = await startServer({
      mode,
      env: { LOG_LEVEL: 'warn' },
      logTo: {
        write(line: string) {
          if (JSON.parse(line).level >= 50) errors.push(line);
        },
      },
    });
    const { account } = await createUser(srv);
    token = await personalToken(srv, account, API_SCOPES);
    doc = (await api(srv, 'GET', '/1/openapi.json')).body;
  }, 60_000);
  afterAll(() => srv?.stop());

  it('api.openapi-document: OpenAPI 3.1 made from the routes, every operation with an id, its scopes and its errors', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers[0].url).toBe(`${srv.url}/1`);
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(ops as Json)) {
        expect(ids.has(op.operationId), `${method} ${path}`).toBe(false);
        ids.add(op.operationId);
        const scopes = (op.security as Json[]).flatMap((req) => Object.values(req).flat());
        for (const s of scopes) expect(API_SCOPES).toContain(s);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '404', '429']));
        if (op.security.length) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
        // Request bodies refuse unknown fields, as the router does.
        const body = op.requestBody?.content['application/json'].schema;
        if (body?.type === 'object') expect(body.additionalProperties, `${method} ${path}`).toBe(false);
      }
    }
    expect(ids.has('getProfile')).toBe(true);
    // An application may ask for no scope that makes a lasting credential (oidc/resource-indicators.ts).
    const forApps = Object.keys(doc.components.securitySchemes.oauth2.flows.authorizationCode.scopes);
    expect(forApps).toEqual(
      API_SCOPES.filter((s) => !/^(tokens|applications|organizations|app_passwords):write$/.test(s)),
    );
    // The reference page reads this document, from our own origin.
    const page = await fetch(`${srv.url}/docs/api`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/1/openapi.json');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
    for (const asset of ['/docs/api/swagger-ui-bundle.js', '/docs/api/swagger-ui.css', '/static/api-docs.js'])
      expect((await fetch(`${srv.url}${asset}`)).status, asset).toBe(200);
  });

  /** A value of the wrong type for a JSON Schema. */
  function wrongFor(schema: Json | undefined): unknown[] {
    const type = schema?.type ?? (schema?.anyOf ? 'any' : 'any');
    const all = [null, 12345, 'text', true, [], {}, -1, 1e308, 'x'.repeat(5000), '\u0000', { __proto__: { a: 1 } }];
    if (type === 'string') return [12345, true, [], {}, null, 'x'.repeat(5000), '\u0000', 'a\u0000b'];
    if (type === 'integer' || type === 'number') return ['12', 1.5, -1e308, 1e308, null, [], {}];
    if (type === 'boolean') return ['true', 1, null, []];
    if (type === 'array') return ['x', {}, null, [null], [12345], Array.from({ length: 2000 }, () => 'x')];
    if (type === 'object') return ['x', [], null, 7];
    return all;
  }

  function pathWith(template: string, value: string): string {
    return `/1${template.replace(/\{\w+\}/g, value)}`;
  }

  it('api.bad-input-never-500: malformed JSON, wrong types, huge bodies, unknown fields, bad ids and queries on every operation', async () => {
    let calls = 0;
    /** `mayPass`: odd but possibly valid input (a query value the route ignores): only no 5xx. */
    const check = async (method: string, path: string, opts: Parameters<typeof api>[3], mayPass = false) => {
      // A 401 here would mean an operation revoked the walk's own token: make a new one and go on.
      const r = await api(srv, method, path, { token, ...opts });
      calls++;
      expect(r.status, `${method} ${path} ${JSON.stringify(opts).slice(0, 200)}: ${r.text.slice(0, 300)}`).toBeLessThan(
        500,
      );
      if (!mayPass) expect(r.body?.result ?? 'none', `${method} ${path}`).not.toBe('success');
      return r;
    };
    const ids = ['x', '00000000-0000-0000-0000-000000000000', crypto.randomUUID(), '999999999999', '-1', '%00', '..'];
    for (const [template, ops] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(ops as Json)) {
        const M = method.toUpperCase();
        const hasParams = template.includes('{');
        const base = hasParams ? pathWith(template, crypto.randomUUID()) : `/1${template}`;
        // Bad ids in the path: never found, never a database error.
        if (hasParams) for (const id of ids) await check(M, pathWith(template, id), {});
        // Junk in the query string.
        for (const q of ['page=0', 'page=-1', 'per_page=100000', 'page=abc', 'per_page=', 'from=2026-02-31'])
          if (op.parameters?.some((p: Json) => q.startsWith(`${p.name}=`))) await check(M, `${base}?${q}`, {}, true);
        for (const p of (op.parameters ?? []) as Json[]) {
          if (p.in !== 'query') continue;
          for (const v of ['%00', '%C3%28', 'x'.repeat(5000), '__proto__', '-1', '9999-12-31T99:99'])
            await check(M, `${base}?${p.name}=${v}`, {}, true);
          await check(M, `${base}?${p.name}=a&${p.name}=b`, {}, true);
        }
        // Deep JSON in a query value and in the Authorization header, on every operation.
        const deep = encodeURIComponent(`${'['.repeat(1000)}${']'.repeat(1000)}`);
        await check(M, `${base}?with=${deep}`, {}, true);
        const deepBearer = `Bearer ${'['.repeat(3000)}${']'.repeat(3000)}`;
        await check(M, base, { token: undefined, headers: { authorization: deepBearer } });
        if (M === 'GET') continue;
        const schema = op.requestBody?.content['application/json'].schema as Json | undefined;
        // Malformed JSON, another content type, a huge body: for every method that may carry one.
        await check(M, base, { raw: { type: 'application/json', data: '{"name": "x",' } });
        await check(M, base, { raw: { type: 'application/json', data: '\u0000' } });
        await check(M, base, { raw: { type: 'application/json', data: JSON.stringify({ a: 'x'.repeat(40_000) }) } });
        await check(M, base, { raw: { type: 'application/json', data: JSON.stringify({ a: 'x'.repeat(1_000_000) }) } });
        // The same sizes sent chunked, with no Content-Length to refuse them by.
        for (const size of [1000, 40_000, 2_000_000])
          await check(M, base, {
            raw: { type: 'application/json', data: JSON.stringify({ a: 'x'.repeat(size) }) },
            chunked: true,
          });
        await check(M, base, { raw: { type: 'application/json', data: JSON.stringify(['not', 'an', 'object']) } });
        await check(M, base, { raw: { type: 'application/json', data: '"a string"' } });
        // Nested deeper than any request needs (a naive walk of it overflows the stack).
        await check(M, base, { raw: { type: 'application/json', data: `${'['.repeat(5000)}${']'.repeat(5000)}` } });
        await check(M, base, {
          raw: { type: 'application/json', data: `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}` },
        });
        if (!schema) continue;
        await check(M, base, { raw: { type: 'application/x-www-form-urlencoded', data: 'name=x' } });
        await check(M, base, { raw: { type: 'text/plain', data: 'name=x' } });
        await check(M, base, { body: { unknown_field_of_ours: 1 } });
        await check(M, base, { body: { constructor: { prototype: { admin: true } }, __proto__: { admin: true } } });
        for (const [field, fieldSchema] of Object.entries((schema.properties ?? {}) as Json))
          for (const wrong of wrongFor(fieldSchema)) await check(M, base, { body: { [field]: wrong } }, !hasParams);
      }
    }
    expect(calls).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  }, 240_000);
});
