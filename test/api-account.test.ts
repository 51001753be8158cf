// The account's own resources in the REST API — /profile, /security, /sessions, /activity — over
// real HTTP with personal API tokens, every answer checked against the OpenAPI document (api()).
// Sessions are made by signing in through the real login; each change must do what the page does
// (activity entry, grants revoked, back-channel logout) and never touch another user's things.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { decodeJwt } from 'jose';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { startLogoutReceiver } from './helpers/rp.ts';
import { Agent, authorize, decodeEntities } from './helpers/agent.ts';
import { signInToAccount, signedInUser, enrolTotp, redeem } from './helpers/mfa.ts';
import { SoftAuthenticator } from './helpers/soft-authenticator.ts';
import { api, personalToken } from './helpers/api.ts';
import type { ApiScope } from '../src/api/scopes.ts';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

/** One entry of GET /activity, as the tests read it. */
interface Entry {
  type: string;
  description: string;
  details: Record<string, unknown>;
  [field: string]: unknown;
}

/** The attributes a validation_failed answer names, with their problem codes. */
const failedFields = (body: { error: { errors?: { code: string; context: { attribute: string } }[] } }) =>
  Object.fromEntries((body.error.errors ?? []).map((e) => [e.context.attribute, e.code]));

describe.each(primaryStorageMode())('API: account resources (%s storage)', (mode) => {
  let srv: TestServer;
  let rp: Awaited<ReturnType<typeof startLogoutReceiver>>;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    // A relying party's back-channel logout endpoint: ending a session must tell it.
    rp = await startLogoutReceiver();
    srv = await startServer({ mode, env: { ALLOW_PRIVATE_NETWORK_CALLBACKS: 'true' } });
    web = await createClient(srv, {
      type: 'web',
      name: 'Blog',
      backchannelLogoutUri: rp.url,
    });
  });
  afterAll(async () => {
    await srv?.stop();
    rp?.close();
  });

  const refresh = (refreshToken: string) =>
    fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      }),
    });
  /** A browser signs in to the Blog through the real login: one session, with tokens. */
  async function blogSession(user: { email: string; password: string }, userAgent = SAFARI) {
    const agent = new Agent(srv.url, { 'user-agent': userAgent });
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
      scope: 'openid offline_access',
    });
    return { agent, tokens: await redeem(srv, web, code!) };
  }
  const sessionsOf = async (token: string) => {
    const res = await api(srv, 'GET', '/1/sessions', { token });
    expect(res.status).toBe(200);
    return res.body.data as Array<{
      id: string;
      device: string | null;
      ip: string;
      place: string | null;
      current: boolean;
    }>;
  };
  const activityOf = (accountId: string, types: string[]) => srv.deps.repos.activity.count(accountId, { types });

  it('api.insufficient-scope: each account route refuses a token without its scope, and does nothing', async () => {
    const user = await createUser(srv);
    const other = await blogSession(user);
    // Every scope but the one each route needs (read scopes never write).
    const cases: Array<[string, string, ApiScope[], unknown?]> = [
      ['PATCH', '/1/profile', ['profile:read', 'security:read'], { firstname: 'Mallory' }],
      ['GET', '/1/security', ['profile:read', 'sessions:read', 'activity:read']],
      ['GET', '/1/sessions', ['profile:read', 'security:read', 'activity:read']],
      [
        'DELETE',
        `/1/sessions/${(await sessionsOf(await personalToken(srv, user.account, ['sessions:read'])))[0]!.id}`,
        ['sessions:read'],
      ],
      ['DELETE', '/1/sessions', ['sessions:read', 'profile:write']],
      ['GET', '/1/activity', ['profile:read', 'security:read', 'sessions:read']],
    ];
    for (const [method, path, scopes, body] of cases) {
      const token = await personalToken(srv, user.account, scopes);
      for (const p of [path, path.replace(/^\/1\//, '/api/')]) {
        const res = await api(srv, method, p, { token, body });
        expect(res.status, `${method} ${p}`).toBe(403);
        expect(res.body.error.code).toBe('insufficient_scope');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
      }
    }
    // Nothing was changed or ended.
    const after = await srv.deps.repos.accounts.findById(user.account.id);
    expect(after!.givenName).toBe('Ada');
    expect(await activityOf(user.account.id, ['profile_changed', 'session_ended'])).toBe(0);
    expect((await refresh(other.tokens.refresh_token!)).status).toBe(200);
  });

  it('api.other-users-resources: another user’s session id is a 404 that ends nothing; lists never show another user’s rows', async () => {
    const alice = await createUser(srv);
    const bob = await createUser(srv, { givenName: 'Bob', familyName: 'Builder', name: 'Bob Builder' });
    const aliceBrowser = await blogSession(alice, CHROME);
    const bobBrowser = await blogSession(bob, SAFARI);
    const aliceToken = await personalToken(srv, alice.account, ['sessions:read', 'sessions:write', 'activity:read']);
    const bobToken = await personalToken(srv, bob.account, ['sessions:read', 'activity:read']);

    const bobSessions = await sessionsOf(bobToken);
    expect(bobSessions).toHaveLength(1);
    const bobSession = bobSessions[0]!.id;
    const aliceSessions = await sessionsOf(aliceToken);
    expect(aliceSessions.map((s) => s.id)).not.toContain(bobSession);
    expect(aliceSessions).toHaveLength(1);

    // Bob's id, an unknown id and a malformed one answer alike, and Bob's session lives on.
    const theirs = await api(srv, 'DELETE', `/1/sessions/${bobSession}`, { token: aliceToken });
    const unknown = await api(srv, 'DELETE', `/1/sessions/${'x'.repeat(bobSession.length)}`, { token: aliceToken });
    const malformed = await api(srv, 'DELETE', '/1/sessions/%27%3B--', { token: aliceToken });
    for (const res of [theirs, unknown, malformed]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(theirs.body);
    }
    expect(theirs.body.error.code).toBe('not_found');
    expect((await sessionsOf(bobToken)).map((s) => s.id)).toEqual([bobSession]);
    expect((await refresh(bobBrowser.tokens.refresh_token!)).status).toBe(200);
    expect(await activityOf(bob.account.id, ['session_ended'])).toBe(0);
    expect(await activityOf(alice.account.id, ['session_ended'])).toBe(0);

    // Alice ending all of hers leaves Bob's alone.
    const all = await api(srv, 'DELETE', '/1/sessions', { token: aliceToken });
    expect(all.status).toBe(200);
    expect(all.body.data).toEqual({ ended: 1 });
    expect((await sessionsOf(bobToken)).map((s) => s.id)).toEqual([bobSession]);
    expect((await refresh(aliceBrowser.tokens.refresh_token!)).status).toBe(400);

    // The activity log: Alice's rows only, whatever the filter or search asks.
    await srv.deps.repos.activity.record({ accountId: bob.account.id, type: 'password_changed', ip: '203.0.113.99' });
    const bobRows = (await api(srv, 'GET', '/1/activity?per_page=100', { token: bobToken })).body.data as {
      id: string;
    }[];
    expect(bobRows.length).toBeGreaterThan(0);
    for (const query of ['', '?q=203.0.113.99', '?type=password_changed', '?type=all%3Asign_in', '?q=Safari']) {
      const res = await api(srv, 'GET', `/1/activity${query}${query ? '&' : '?'}per_page=100`, { token: aliceToken });
      expect(res.status, query).toBe(200);
      const ids = (res.body.data as { id: string }[]).map((r) => r.id);
      for (const b of bobRows) expect(ids, query).not.toContain(b.id);
    }
    // An application only Bob's log mentions is not one Alice can filter by (as an unknown one).
    const bobsApp = await createClient(srv, { type: 'web', name: 'Bob’s shop' });
    await srv.deps.repos.activity.record({
      accountId: bob.account.id,
      type: 'sign_in',
      clientId: bobsApp.clientId,
      application: 'Bob’s shop',
    });
    const refused = await api(srv, 'GET', `/1/activity?application=${bobsApp.clientId}`, { token: aliceToken });
    expect(refused.status).toBe(400);
    expect(failedFields(refused.body)).toEqual({ application: 'invalid_option' });
    const own = await api(srv, 'GET', `/1/activity?application=${bobsApp.clientId}`, { token: bobToken });
    expect(own.status).toBe(200);
    expect(own.body.total).toBe(1);
  });

  it('api.profile-infomaniak-shape: GET /1/profile has an integer id, and /api/profile is the same', async () => {
    const user = await createUser(srv, { givenName: 'Grace', familyName: 'Hopper', name: 'Grace Hopper' });
    const token = await personalToken(srv, user.account, ['profile:read']);
    const v1 = await api(srv, 'GET', '/1/profile', { token });
    expect(v1.status).toBe(200);
    expect(v1.body.result).toBe('success');
    const p = v1.body.data;
    expect(typeof p.id).toBe('number');
    expect(Number.isInteger(p.id)).toBe(true);
    expect(p.id).toBe(user.account.userId);
    expect(p).toMatchObject({
      login: user.email,
      email: user.email,
      firstname: 'Grace',
      lastname: 'Hopper',
      display_name: 'Grace Hopper',
      language: 'en',
      timezone: user.account.zoneinfo,
    });
    const unversioned = await api(srv, 'GET', '/api/profile', { token });
    expect(unversioned.status).toBe(200);
    expect(unversioned.body).toEqual(v1.body);
    // The access token of an ordinary sign-in (openid profile email) reads it too, as Infomaniak's does.
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const oauth = await api(srv, 'GET', '/1/profile', { token: (await redeem(srv, web, code!)).access_token });
    expect(oauth.status).toBe(200);
    expect(oauth.body).toEqual(v1.body);
  });

  it('api.profile-patch: names, language and time zone change as on the Profile page, logged once', async () => {
    const user = await signedInUser(srv);
    const token = await personalToken(srv, user.account, ['profile:read', 'profile:write']);
    const res = await api(srv, 'PATCH', '/1/profile', {
      token,
      body: { firstname: '  Augusta ', lastname: 'King', language: 'fr', timezone: 'America/New_York' },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: user.account.userId,
      firstname: 'Augusta',
      lastname: 'King',
      display_name: 'Augusta King',
      language: 'fr',
      timezone: 'America/New_York',
    });
    expect((await api(srv, 'GET', '/api/profile', { token })).body.data).toEqual(res.body.data);
    expect(await activityOf(user.account.id, ['profile_changed'])).toBe(1);
    // The Profile page shows what the API set.
    const page = await user.agent.go('/account/profile');
    expect(page.body).toMatch(/name="given_name"[^>]*value="Augusta"/);
    expect(page.body).toContain('<option value="America/New_York" selected>');

    // Only the fields sent change; UTC is a zone too.
    const partial = await api(srv, 'PATCH', '/1/profile', { token, body: { timezone: 'UTC' } });
    expect(partial.status).toBe(200);
    expect(partial.body.data).toMatchObject({
      firstname: 'Augusta',
      lastname: 'King',
      language: 'fr',
      timezone: 'UTC',
    });
    expect(await activityOf(user.account.id, ['profile_changed'])).toBe(2);
    // Asking for what already is changes nothing and logs nothing.
    const same = await api(srv, 'PATCH', '/1/profile', { token, body: { language: 'fr' } });
    expect(same.status).toBe(200);
    expect(await activityOf(user.account.id, ['profile_changed'])).toBe(2);
  });

  it('api.profile-patch-refused: unknown fields, bad time zones, wrong types and too long names are 400s that change nothing', async () => {
    const user = await createUser(srv);
    const token = await personalToken(srv, user.account, ['profile:write']);
    const cases: Array<[unknown, Record<string, string>]> = [
      [{ nickname: 'Ada' }, { nickname: 'unknown_field' }],
      [{ firstname: 'Ada', email: 'mallory@example.test' }, { email: 'unknown_field' }],
      [{ timezone: 'Mars/Olympus_Mons' }, { timezone: 'invalid_choice' }],
      [{ timezone: 'europe/zurich' }, { timezone: 'invalid_choice' }],
      [{ timezone: 1 }, { timezone: 'invalid_type' }],
      [{ firstname: 42 }, { firstname: 'invalid_type' }],
      [{ lastname: null }, { lastname: 'invalid_type' }],
      [{ firstname: ['Ada'] }, { firstname: 'invalid_type' }],
      [{ language: 'xx' }, { language: 'invalid_choice' }],
      [{ firstname: 'A'.repeat(201) }, { firstname: 'too_long' }],
      [{ lastname: '   ' }, { lastname: 'too_short' }],
    ];
    for (const [body, fields] of cases) {
      const res = await api(srv, 'PATCH', '/1/profile', { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(failedFields(res.body), JSON.stringify(body)).toEqual(fields);
    }
    // Not an object at all.
    for (const body of [[], 'Ada', 7]) {
      const res = await api(srv, 'PATCH', '/1/profile', { token, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    // Not JSON, not said to be JSON, far too large.
    const raws: Array<[{ type: string; data: string }, number, string]> = [
      [{ type: 'application/json', data: '{"firstname": "Ada"' }, 400, 'invalid_json'],
      [{ type: 'text/plain', data: '{"firstname": "Eve"}' }, 415, 'invalid_content_type'],
      [{ type: 'application/json', data: JSON.stringify({ firstname: 'E'.repeat(40_000) }) }, 413, 'invalid_input'],
    ];
    for (const [raw, status, code] of raws) {
      const res = await api(srv, 'PATCH', '/1/profile', { token, raw });
      expect(res.status, raw.data.slice(0, 30)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const after = await srv.deps.repos.accounts.findById(user.account.id);
    expect(after).toMatchObject({
      givenName: 'Ada',
      familyName: 'Lovelace',
      locale: 'en',
      zoneinfo: user.account.zoneinfo,
    });
    expect(await activityOf(user.account.id, ['profile_changed'])).toBe(0);
    // A 200-character name is fine.
    const long = await api(srv, 'PATCH', '/1/profile', { token, body: { firstname: 'A'.repeat(200) } });
    expect(long.status).toBe(200);
    expect(long.body.data.display_name).toBe(`${'A'.repeat(200)} Lovelace`);
  });

  it('api.sessions: lists the browsers signed in as the page does, ends one and all with their grants and a back-channel logout', async () => {
    const user = await createUser(srv);
    const phone = await blogSession(user, SAFARI);
    const laptop = new Agent(srv.url, { 'user-agent': CHROME });
    await signInToAccount(srv, laptop, user.email, user.password, '/account/sessions');
    const token = await personalToken(srv, user.account, ['sessions:read', 'sessions:write']);

    const list = await sessionsOf(token);
    expect(list.map((s) => s.device).sort()).toEqual(['Chrome 140 · Linux', 'Safari 18 · iOS 18']);
    for (const s of list) {
      expect(s.current).toBe(false); // a token is not a browser session
      expect(s.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(s.place).toBe('this_computer');
    }
    // The same sessions the page lists.
    const page = await laptop.go('/account/sessions');
    const pageIds = [...page.body.matchAll(/<tr data-session="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(pageIds)).toEqual(new Set(list.map((s) => s.id)));

    // Ending the phone's session: 204, its tokens revoked, the Blog told, logged as the page does.
    const phoneSession = list.find((s) => s.device?.startsWith('Safari'))!;
    const sid = decodeJwt(phone.tokens.id_token).sid;
    const ended = await api(srv, 'DELETE', `/1/sessions/${phoneSession.id}`, { token });
    expect(ended.status).toBe(204);
    expect(ended.text).toBe('');
    expect((await sessionsOf(token)).map((s) => s.id)).not.toContain(phoneSession.id);
    expect((await refresh(phone.tokens.refresh_token!)).status).toBe(400);
    await expect.poll(() => rp.logouts.some((t) => t && decodeJwt(t).sid === sid)).toBe(true);
    const logged = await api(srv, 'GET', '/1/activity?type=session_ended', {
      token: await personalToken(srv, user.account, ['activity:read']),
    });
    expect(logged.body.data).toHaveLength(1);
    expect(logged.body.data[0].details).toEqual({ ended: 'Safari 18 · iOS 18' });
    // Ended already: a 404 the second time.
    expect((await api(srv, 'DELETE', `/api/sessions/${phoneSession.id}`, { token })).status).toBe(404);

    // End all: no session is the caller's, so the laptop is signed out too; the token keeps working.
    await blogSession(user, SAFARI);
    const all = await api(srv, 'DELETE', '/api/sessions', { token });
    expect(all.status).toBe(200);
    expect(all.body.data).toEqual({ ended: 2 });
    expect(await sessionsOf(token)).toEqual([]);
    expect((await laptop.go('/account/sessions')).body).toContain('name="password"');
    expect(await activityOf(user.account.id, ['session_ended'])).toBe(2);
    const none = await api(srv, 'DELETE', '/1/sessions', { token });
    expect(none.body.data).toEqual({ ended: 0 });
    expect(await activityOf(user.account.id, ['session_ended'])).toBe(2);
  });

  it('api.sessions-paginated: page and per_page over the sessions, with the total', async () => {
    const user = await createUser(srv);
    for (let i = 0; i < 3; i++) await blogSession(user);
    const token = await personalToken(srv, user.account, ['sessions:read']);
    const first = await api(srv, 'GET', '/1/sessions?per_page=2', { token });
    expect(first.body).toMatchObject({ total: 3, page: 1, pages: 2, items_per_page: 2 });
    expect(first.body.data).toHaveLength(2);
    const second = await api(srv, 'GET', '/1/sessions?per_page=2&page=2', { token });
    expect(second.body.data).toHaveLength(1);
    const ids = [...first.body.data, ...second.body.data].map((s: { id: string }) => s.id);
    expect(new Set(ids).size).toBe(3);
    const bad = await api(srv, 'GET', '/1/sessions?per_page=0', { token });
    expect(bad.status).toBe(400);
    expect(failedFields(bad.body)).toEqual({ per_page: 'out_of_range' });
  });

  it('api.activity-filters: type, group, application, days and text search as on the Activity page, paginated', async () => {
    const user = await createUser(srv, { locale: 'fr' });
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Europe/Zurich' });
    const token = await personalToken(srv, user.account, ['activity:read']);
    const record = (type: string, at: string, over: Record<string, unknown> = {}) =>
      srv.deps.repos.activity.record({ accountId: user.account.id, type, at: new Date(at), ...over });
    await record('sign_in', '2026-03-01T08:00:00Z', {
      clientId: web.clientId,
      application: 'Blog',
      ip: '198.51.100.7',
      device: 'Firefox 140 · Windows 11',
      details: { amr: ['pwd'] },
    });
    await record('sign_in_failed', '2026-03-02T08:00:00Z', { ip: '198.51.100.8' });
    await record('profile_changed', '2026-03-03T08:00:00Z');
    // 23:30 in Zurich on 3 March is 22:30 UTC: a day of the account's time zone.
    await record('factor_added', '2026-03-03T22:30:00Z', {
      details: { method: 'totp', name: 'Pixel', secret: 'JBSWY3DP' },
    });
    await record('password_changed', '2026-03-05T08:00:00Z');

    const get = async (query: string, headers: Record<string, string> = {}) => {
      const res = await api(srv, 'GET', `/1/activity?${query}`, { token, headers });
      expect(res.status, query).toBe(200);
      return res.body as { data: Entry[]; total: number; pages: number };
    };
    const types = (b: { data: Entry[] }) => b.data.map((e) => e.type);

    // Newest first, each entry described in the caller's language.
    // (Making the token is in the log too, today.)
    const all = await get('', { 'accept-language': 'en' });
    expect(types(all)).toEqual([
      'api_token_created',
      'password_changed',
      'factor_added',
      'profile_changed',
      'sign_in_failed',
      'sign_in',
    ]);
    expect(all.total).toBe(6);
    const signIn = all.data.find((e) => e.type === 'sign_in')!;
    expect(signIn).toMatchObject({
      at: '2026-03-01T08:00:00.000Z',
      ip: '198.51.100.7',
      device: 'Firefox 140 · Windows 11',
      application: { client_id: web.clientId, name: 'Blog' },
      details: { amr: ['pwd'] },
    });
    expect(typeof signIn.description).toBe('string');
    // Only the details the page shows: a stray secret in an entry never goes out.
    expect(all.data.find((e) => e.type === 'factor_added')!.details).toEqual({ method: 'totp', name: 'Pixel' });
    expect(JSON.stringify(all)).not.toContain('JBSWY3DP');
    const french = await get('type=profile_changed', { 'accept-language': 'fr-CH, en;q=0.5' });
    const english = await get('type=profile_changed', { 'accept-language': 'en' });
    expect(french.data[0]!.description).not.toBe(english.data[0]!.description);

    // One type, and a whole group.
    expect(types(await get('type=sign_in'))).toEqual(['sign_in']);
    expect(types(await get('type=all%3Asign_in'))).toEqual(['sign_in_failed', 'sign_in']);
    expect(types(await get('type=all%3Asecurity&to=2026-11-30'))).toEqual([
      'password_changed',
      'factor_added',
      'profile_changed',
    ]);
    // An application.
    expect(types(await get(`application=${web.clientId}`))).toEqual(['sign_in']);
    // Days in the account's time zone, "to" included.
    expect(types(await get('from=2026-03-03&to=2026-03-03'))).toEqual(['factor_added', 'profile_changed']);
    expect(types(await get('from=2026-03-04&to=2026-03-31'))).toEqual(['password_changed']);
    expect(types(await get('to=2026-03-01'))).toEqual(['sign_in']);
    // Text: in the address, the device, the application, or the description in the caller's language.
    expect(types(await get('q=198.51.100.8'))).toEqual(['sign_in_failed']);
    expect(types(await get('q=firefox'))).toEqual(['sign_in']);
    expect(types(await get('q=blog'))).toEqual(['sign_in']);
    const described = english.data[0]!.description as string;
    expect(types(await get(`q=${encodeURIComponent(described.toUpperCase())}`, { 'accept-language': 'en' }))).toEqual([
      'profile_changed',
    ]);
    const frDescribed = french.data[0]!.description as string;
    expect(types(await get(`q=${encodeURIComponent(frDescribed)}`, { 'accept-language': 'fr' }))).toEqual([
      'profile_changed',
    ]);
    // Filters together.
    expect(types(await get('type=all%3Asign_in&from=2026-03-02&q=198.51'))).toEqual(['sign_in_failed']);

    // Pages.
    const p1 = await get('per_page=2');
    expect(p1).toMatchObject({ total: 6, pages: 3 });
    expect(types(p1)).toEqual(['api_token_created', 'password_changed']);
    expect(types(await get('per_page=2&page=3'))).toEqual(['sign_in_failed', 'sign_in']);
    expect((await get('per_page=2&page=4')).data).toEqual([]);
  });

  it('api.activity-bad-filter: a bad filter value is a 400 validation_failed naming the field', async () => {
    const user = await createUser(srv);
    const token = await personalToken(srv, user.account, ['activity:read']);
    const cases: Array<[string, Record<string, string>]> = [
      ['from=2026-02-31', { from: 'date_invalid' }],
      ['to=yesterday', { to: 'date_invalid' }],
      ['to=9999-12-31', { to: 'date_range' }],
      ['from=2026-03-02&to=2026-03-01', { to: 'to_before_from' }],
      ['type=nope', { type: 'invalid_option' }],
      ['type=all%3Aeverything', { type: 'invalid_option' }],
      ['application=no-such-client', { application: 'invalid_option' }],
      [`q=${'x'.repeat(201)}`, { q: 'too_long' }],
      ['type=sign_in&type=locked', { type: 'invalid_type' }],
      ['sort=asc', { sort: 'unknown_field' }],
      ['page=0', { page: 'out_of_range' }],
      ['per_page=101', { per_page: 'out_of_range' }],
    ];
    for (const [query, fields] of cases) {
      const res = await api(srv, 'GET', `/1/activity?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(failedFields(res.body), query).toEqual(fields);
      for (const e of res.body.error.errors) expect(e.description).not.toBe(`fieldErrors.${e.code}`);
    }
    // Each message in the caller's language.
    const fr = await api(srv, 'GET', '/1/activity?from=2026-02-31', { token, headers: { 'accept-language': 'fr' } });
    expect(fr.body.error.errors[0].description).toContain('AAAA-MM-JJ');
  });

  it('api.security-no-secret: the overview lists methods by type and name, masked contacts, never a seed, credential or number', async () => {
    const user = await signedInUser(srv);
    const { agent } = user;
    // An authenticator app, a security key and an SMS number, through the Security page.
    const { secret, backupCodes } = await enrolTotp(agent, 'Pixel');
    const key = new SoftAuthenticator();
    const keyForm = await agent.go('/account/security/webauthn/new');
    const options = JSON.parse(decodeEntities(keyForm.body.match(/data-options="([^"]*)"/)![1]!));
    const keyDone = await agent.submit(
      keyForm,
      { name: 'YubiKey 5', credential: JSON.stringify(key.register(options, srv.url)) },
      '/account/security/webauthn"',
    );
    expect(keyDone.status).toBe(200);
    const mobile = '+41791234567';
    const smsForm = await agent.submit(
      await agent.go('/account/security/sms/new'),
      { name: 'Work phone', country: 'CH', phone: '079 123 45 67' },
      '/account/security/sms"',
    );
    const smsCode = srv
      .smsOutbox()
      .filter((m) => m.to === mobile)
      .at(-1)!
      .text.match(/\b(\d{6})\b/)![1]!;
    await agent.submit(smsForm, { code: smsCode }, '/sms/confirm"');
    // Recovery contacts, through the Profile page.
    const profile = await agent.go('/account/profile');
    const recoveryPhone = '+33612345678';
    await agent.submit(
      profile,
      { country: 'FR', phone: '06 12 34 56 78', password: user.password },
      '/recovery-phone"',
    );
    const recoveryEmail = 'ada.recovery@example.org';
    await agent.submit(
      await agent.go('/account/profile'),
      { recovery_email: recoveryEmail, password: user.password },
      '/recovery-email"',
    );

    const token = await personalToken(srv, user.account, ['security:read']);
    const res = await api(srv, 'GET', '/1/security', { token });
    expect(res.status).toBe(200);
    const s = res.body.data;
    expect(s.two_factor_enabled).toBe(true);
    expect(s.methods.map((m: { type: string; name: string }) => [m.type, m.name])).toEqual([
      ['totp', 'Pixel'],
      ['webauthn', 'YubiKey 5'],
      ['sms', 'Work phone'],
    ]);
    expect(s.default_method).toMatchObject({ type: 'totp', name: 'Pixel' });
    expect(s.methods.find((m: { type: string }) => m.type === 'sms').phone).toBe('+41 •••••••67');
    expect(s.methods.find((m: { type: string }) => m.type === 'totp').phone).toBeNull();
    expect(s.backup_codes_left).toBe(backupCodes.length);
    expect(s.recovery).toEqual({ email: 'a•••@e•••.org', phone: '+33 •••••••78' });
    expect(s.lockout_threshold).toBe(user.account.lockoutThreshold);
    expect(s.alerts).toEqual({ every_sign_in: false, failed_password: false });

    // Nothing secret anywhere in the answer: the seed (as shown and as stored), the key's
    // credential id and public key, the numbers, the recovery address, the backup codes.
    const text = res.text;
    const rows = await srv.deps.repos.secondFactors.list(user.account.id);
    const forbidden = [
      secret,
      secret.toLowerCase(),
      key.id,
      mobile,
      '791234567',
      '79 123 45',
      recoveryPhone,
      '612345678',
      recoveryEmail,
      'ada.recovery',
      ...backupCodes,
      ...rows.flatMap((r) => [r.secret, r.credentialId, r.publicKey]).filter((v): v is string => !!v),
    ];
    for (const f of forbidden) expect(text, f).not.toContain(f);
    expect(text).not.toMatch(/"(secret|seed|credential_?id|public_?key)"/i);
  });

  it('api.security-off: without two-step verification, no methods and no default', async () => {
    const user = await createUser(srv);
    const res = await api(srv, 'GET', '/api/security', {
      token: await personalToken(srv, user.account, ['security:read']),
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      two_factor_enabled: false,
      methods: [],
      default_method: null,
      backup_codes_left: 0,
      recovery: { email: null, phone: null },
    });
  });
});
