// Bad input at the edge: a NUL byte (U+0000) or bytes that are not UTF-8 in any parameter — the
// query string, a form or JSON body, Basic credentials, or a claim inside a JWT — are refused with
// a clean 400 before oidc-provider and the database see them (PostgreSQL stores neither: each used
// to be a 500, some after a code or a link was spent). Prototype keys are no lookup keys; a unique
// violation is "already taken"; a failed query never puts its SQL in the log.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createUser, createClient, uniqueEmail, type TestServer } from './helpers/server.ts';
import { Agent, basicAuth, pkcePair } from './helpers/agent.ts';
import { signedInUser } from './helpers/mfa.ts';

/** An unsigned JWT: the edge looks inside before anything verifies it. */
const jwt = (payload: Record<string, unknown>) =>
  [{ alg: 'RS256', typ: 'JWT' }, payload, 'sig']
    .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url'))
    .join('.');

describe.each(storageModes())('bad input (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  const lines: string[] = [];
  beforeAll(async () => {
    srv = await startServer({ mode, env: { LOG_LEVEL: 'info' }, logTo: { write: (l) => void lines.push(l) } });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const errorLines = () => lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}${path}`, { headers, redirect: 'manual' });
  const authorizeQuery = (over: Record<string, string>) =>
    new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
      ...over,
    }).toString();

  it('input.nul-in-client-id-400: /authorize, /token, /par, /logout and introspection answer invalid_request', async () => {
    const before = errorLines().length;
    const page = await get(`/authorize?${authorizeQuery({ client_id: 'abc\0' })}`, { accept: 'text/html' });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('invalid_request');
    expect(html).toContain('<main class="card">'); // the styled error page

    const json = await get(`/authorize?${authorizeQuery({ client_id: 'abc\0' })}`, { accept: 'application/json' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });

    for (const [path, body, headers] of [
      ['/token', 'grant_type=client_credentials&client_id=a%00b&client_secret=x', {}],
      ['/token', 'grant_type=client_credentials', { authorization: basicAuth('a\0b', 'secret') }],
      ['/par', `${authorizeQuery({})}&client_id=x%00`, {}],
      ['/logout', 'client_id=%00', {}],
      ['/token/introspection', 'token=abc&client_id=%00', {}],
    ] as const) {
      const res = await post(path, body, headers);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ error: 'invalid_request' });
    }
    expect(errorLines().slice(before)).toEqual([]);
  });

  it('input.nul-in-id-token-hint-aud-400: the claims of a hint are checked before any lookup', async () => {
    const hint = jwt({ iss: srv.url, aud: 'client\0', sub: 'x', exp: 2_000_000_000 });
    const res = await get(`/logout?id_token_hint=${hint}`, { accept: 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    const escaped = Buffer.from('{"alg":"none"}').toString('base64url');
    const viaEscape = `${escaped}.${Buffer.from('{"aud":"a\\u0000"}').toString('base64url')}.`;
    expect((await get(`/logout?id_token_hint=${viaEscape}`, { accept: 'application/json' })).status).toBe(400);
  });

  it('input.nul-in-refresh-token-400: a refresh or introspected token with NUL never reaches the database', async () => {
    const auth = { authorization: basicAuth(web.clientId, web.clientSecret) };
    const refresh = await post('/token', 'grant_type=refresh_token&refresh_token=abc%00def', auth);
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_request' });
    const introspect = await post('/token/introspection', 'token=abc%00def&token_type_hint=refresh_token', auth);
    expect(introspect.status).toBe(400);
    const revoke = await post('/token/revocation', 'token=%FF', auth);
    expect(revoke.status).toBe(400);
  });

  it('input.nul-in-nonce-400: refused at /authorize, before a code is issued and spent', async () => {
    const { challenge } = pkcePair();
    const res = await get(
      `/authorize?${authorizeQuery({ nonce: 'n\0', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { accept: 'text/html' },
    );
    expect(res.status).toBe(400);
    // The same request with a clean nonce goes on to sign-in (the check is about the NUL only).
    const fine = await get(`/authorize?${authorizeQuery({ nonce: 'n-1' })}`);
    expect(fine.status).toBe(303);
  });

  it('input.nul-in-logout-state-400', async () => {
    const res = await get(`/logout?state=s%00&client_id=${web.clientId}`, { accept: 'text/html' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_request');
  });

  it('input.invalid-utf8-400: %C3%28 and %FF in a query, a form and a JSON body are refused, not replaced', async () => {
    const before = errorLines().length;
    const browser = new Agent(srv.url);
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await browser.go('/signup')).body)![1]!;
    for (const bad of ['%C3%28', '%FF', '%ED%A0%80']) {
      const page = await get(`/account/activity?q=${bad}`, { accept: 'text/html' });
      expect(page.status, bad).toBe(400);
      expect(await page.text()).toContain('characters that cannot be accepted');
      const signup = await post('/signup', `_csrf=${csrf}&given_name=${bad}&email=a%40b.test`, {
        accept: 'text/html',
        cookie: browser.cookieHeader(),
      });
      expect(signup.status, bad).toBe(400);
      expect(await signup.text()).toContain('characters that cannot be accepted');
      const token = await post('/token', `grant_type=client_credentials&scope=${bad}`, {
        authorization: basicAuth(web.clientId, web.clientSecret),
      });
      expect(token.status, bad).toBe(400);
    }
    const json = await fetch(`${srv.url}/1/devices/enrol/abc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"request":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_characters' });
    const device = await fetch(`${srv.url}/1/devices/enrol/abc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: jwt({ name: 'Phone\0', jwk: {} }) }),
    });
    expect(device.status).toBe(400);
    expect(errorLines().slice(before)).toEqual([]);
  });

  it('input.nul-in-form-field-400: a NUL in a name shows the form again with the message, in the user’s language', async () => {
    const user = await signedInUser(srv, { locale: 'fr' });
    const form = await user.agent.go('/account/profile');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const res = await user.agent.request('/account/profile', {
      form: { _csrf: csrf, given_name: 'Ada\0', family_name: 'Lovelace', locale: 'fr', zoneinfo: 'UTC' },
      headers: { accept: 'text/html' },
    });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('caractères non acceptés');
    expect(page).toContain('value="Lovelace"'); // the form again, with what was typed
    expect(page).toContain('value="Ada\uFFFD"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.name).toBe('Ada Lovelace');
    // Also in a path parameter (an application's id).
    const app = await user.agent.request('/account/applications/%00', { headers: { accept: 'text/html' } });
    expect(app.status).toBe(400);
  });

  it('input.prototype-key-activity-type: constructor, hasOwnProperty and %00 are no filters', async () => {
    const user = await signedInUser(srv);
    for (const q of ['type=constructor', 'type=hasOwnProperty', 'type=__proto__', 'app=constructor', 'app=toString']) {
      const page = await user.agent.go(`/account/activity?${q}`);
      expect(page.status, q).toBe(400);
      expect(page.body, q).toContain('Choose one of the options in the list.');
    }
    expect((await user.agent.go('/account/activity?app=%00')).status).toBe(400);
  });

  it('input.uuid-shaped-ids-404: ids of 36 dashes or hex digits are no ids, before or after sign-in (no 22P02)', async () => {
    const user = await signedInUser(srv);
    for (const id of ['-'.repeat(36), 'f'.repeat(36)]) {
      expect((await user.agent.go(`/account/applications/${id}`)).status, id).toBe(404);
      expect((await user.agent.go(`/account/security/factors/${id}/rename`)).status, id).toBe(404);
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: id })).toString('base64url');
      const res = await get('/1/devices/me', {
        authorization: `Device ${header}.e30.c2ln`,
        accept: 'application/json',
      });
      expect(res.status, id).toBe(401);
    }
    expect(errorLines()).toEqual([]);
  });

  it('input.email-change-taken-meanwhile: "already taken", and the link is not spent', async () => {
    const user = await signedInUser(srv);
    const wanted = uniqueEmail('wanted');
    const form = await user.agent.go('/account/profile/email');
    await user.agent.submit(form, { email: wanted, email_again: wanted, password: user.password }, '/email"');
    const link = srv
      .outbox()
      .filter((m) => m.to === wanted)
      .at(-1)!
      .text.match(/http\S+confirm-email-change\?token=[\w-]+/)![0];
    // Someone else signs up with the address before the link is used.
    const other = await createUser(srv, { email: wanted });
    const browser = new Agent(srv.url);
    const taken = await browser.submit(await browser.go(link), {}, '/confirm-email-change"');
    expect(taken.status).toBe(409);
    expect(taken.body).toContain('This address has meanwhile been taken by another account.');
    expect(taken.body).toContain('id="confirm-email"'); // the button again: the link still works
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.email).toBe(user.email);
    // The address becomes free again: the same link now works.
    await srv.deps.repos.accounts.delete(other.account.id);
    const confirmed = await browser.submit(await browser.go(link), {}, '/confirm-email-change"');
    expect(confirmed.body).toContain('id="email-changed"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.email).toBe(wanted);
    expect(await srv.deps.repos.accounts.setEmail(user.account.id, user.email)).toBe(true);
    const squatter = await createUser(srv);
    // The unique index, hit directly (pg and PGlite alike), is "taken", not an exception.
    expect(await srv.deps.repos.accounts.setEmail(user.account.id, squatter.email)).toBe(false);
  });

  it('log.failed-query-without-sql: a failed query logs its code and a short message, never SQL or parameters', async () => {
    const secret = `secret-${Date.now()}@example.test`;
    const err = await srv.deps.repos.accounts.findByEmail(`${secret}\0`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    srv.deps.logger.error({ err }, 'unhandled error');
    const line = lines.at(-1)!;
    const logged = JSON.parse(line) as { err: { code: string; message: string } };
    expect(logged.err.code).toMatch(/^[0-9A-Z]{5}$/); // PostgreSQL's SQLSTATE
    expect(logged.err.message.length).toBeGreaterThan(0);
    expect(line).not.toContain(secret);
    expect(line).not.toMatch(/select|from "accounts"|params:/i);
  });
});
