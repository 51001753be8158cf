// Personal API tokens end to end (issue 13 item 5): made on the Security page with the password,
// shown once and stored nowhere in clear; revoked one, several or all, refused at once; expired and
// idle ones refused (the idle sweep warns a week before, then deactivates, emails and logs); the
// compromised-password flow revokes them; /1/tokens checks the password and never gives more scopes
// than the caller holds; another user's ids change nothing. Every API call goes through api(), which
// checks each answer against the OpenAPI document.
import crypto from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { freshDatabaseUrl, dropDatabase } from './helpers/processes.ts';
import { sql } from 'drizzle-orm';
import { startServer, primaryStorageMode, createUser, failureCount, type TestServer } from './helpers/server.ts';
import { Agent, type Page } from './helpers/agent.ts';
import { signedInUser } from './helpers/mfa.ts';
import { api, personalToken, type ApiAnswer } from './helpers/api.ts';
import { testClock } from './helpers/clock.ts';
import { runIdleTokenSweep } from '../src/api/idle-tokens.ts';
import type { ApiScope } from '../src/api/scopes.ts';

const DAY = 24 * 3600 * 1000;
const ALL: ApiScope[] = ['profile:read', 'tokens:read', 'tokens:write'];
const tokenOn = (page: Page) => /<code id="api-token">(sesame_pat_\w+)<\/code>/.exec(page.body)?.[1];

describe.each(primaryStorageMode())('personal API tokens (%s storage)', (mode) => {
  let srv: TestServer;
  // A database of its own on PostgreSQL: the idle sweep runs a year ahead on this file's clock and
  // deactivates every token it finds — those of the suites running beside it included.
  const database = `sesame_api_tokens_${crypto.randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    const own: Record<string, string> =
      mode === 'postgres' ? { DATABASE_URL: freshDatabaseUrl(process.env.DATABASE_URL!, database) } : {};
    // No recent sign-in counts: a new token asks for the password on the page.
    srv = await startServer({ mode, env: { REAUTH_WINDOW_SECONDS: '0', ...own } });
  });
  afterAll(async () => {
    await srv?.stop();
    if (mode === 'postgres') dropDatabase(process.env.DATABASE_URL!, database);
  });

  const rows = async <T>(query: ReturnType<typeof sql>) =>
    ((await srv.deps.database.db.execute(query)) as unknown as { rows: T[] }).rows;
  const mails = (to: string) => srv.outbox().filter((m) => m.to === to);
  const profile = (token: string) => api(srv, 'GET', '/1/profile', { token });
  /** Refused as an unknown token is: 401 not_authorized, with the Bearer challenge. */
  function expectRefused(res: ApiAnswer) {
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('not_authorized');
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }
  const activityOf = (accountId: string, type: string) =>
    srv.deps.repos.activity.list(accountId, { types: [type] }, { limit: 100, offset: 0 });
  async function idOf(token: string, name: string): Promise<string> {
    const list = await api(srv, 'GET', '/1/tokens?per_page=100', { token });
    const found = list.body.data.find((t: { name: string }) => t.name === name);
    if (!found) throw new Error(`no token named ${name}`);
    return found.id as string;
  }
  const signedIn = (over: Parameters<typeof createUser>[1] = {}) => signedInUser(srv, over);
  /** The page asks for the password first when no sign-in is recent: it is given. */
  async function confirmIfAsked(agent: Agent, page: Page, password: string): Promise<Page> {
    if (!page.url.includes('/confirm-password')) return page;
    return agent.submit(page, { password }, '/confirm-password"');
  }

  it('api.token-shown-once: made on the page with the password, shown once, stored nowhere in clear, never listed', async () => {
    const user = await signedIn();
    const { agent } = user;
    const security = await agent.go('/account/security');
    expect(security.body).toContain('href="/account/security/api-tokens"');
    const list = await agent.go('/account/security/api-tokens');
    expect(list.body).toContain('id="no-tokens"');
    expect(list.body).toContain('href="/docs/api"');
    expect(list.body).toMatch(/id="security-link"[^>]*aria-current="true"|aria-current="true"[^>]*id="security-link"/);

    const form = await agent.go('/account/security/api-tokens/new');
    expect(form.body).toContain('See your API tokens'); // each scope in plain words
    expect(form.body).toMatch(/name="validity" value="unlimited" checked/);
    const ask = await agent.submit(
      form,
      { name: 'Deploy script', scopes: ['profile:read', 'tokens:read'], validity: 'unlimited' },
      '/account/security/api-tokens"',
    );
    // Nothing is made before the password is confirmed.
    expect(ask.url).toContain('/account/security/confirm-password');
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(0);
    const wrong = await agent.submit(ask, { password: 'not my password' }, '/confirm-password"');
    expect(wrong.status).toBe(401);
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(0);
    const shown = await agent.submit(wrong, { password: user.password }, '/confirm-password"');
    expect(shown.url).toMatch(/\/account\/security\/api-tokens\/created\?shown=[\w-]+$/);
    const token = tokenOn(shown)!;
    expect(token).toMatch(/^sesame_pat_[0-9A-Za-z]{49}$/);
    expect(shown.body).toContain('id="copy-token"');
    expect(shown.body).toContain('<script src="/static/copy.js"></script>');
    expect(shown.body.split(token)).toHaveLength(2); // once on the page

    // A reload shows it no more.
    const again = await agent.go(shown.url);
    expect(again.status).toBe(200);
    expect(again.body).toContain('id="token-spent"');
    expect(again.body).not.toContain('sesame_pat_');

    // It works, with the scopes chosen.
    expect((await profile(token)).status).toBe(200);
    const listed = await api(srv, 'GET', '/1/tokens', { token });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(token);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({
      name: 'Deploy script',
      scopes: ['profile:read', 'tokens:read'],
      expires_at: null,
      last_used_at: expect.any(String),
      state: 'active',
      current: true,
    });
    expect((await api(srv, 'DELETE', `/1/tokens/${listed.body.data[0].id}`, { token })).status).toBe(403);

    // Not in any table: only its HMAC is kept.
    const tables = await rows<{ table_name: string }>(
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.table_name)).toContain('api_tokens');
    for (const { table_name } of tables) {
      const found = await rows<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table_name)} t WHERE strpos(row_to_json(t)::text, ${token}) > 0`,
      );
      expect(found[0]!.n, table_name).toBe(0);
    }
    const created = await activityOf(user.account.id, 'api_token_created');
    expect(created.map((a) => a.details)).toEqual([{ name: 'Deploy script', scopes: ['profile:read', 'tokens:read'] }]);

    // The list page: scopes in plain words, created, last use with its address, expiry.
    const page = await agent.go('/account/security/api-tokens');
    expect(page.body).toContain('Deploy script');
    expect(page.body).toContain('Read your profile: name, email address, language and time zone');
    expect(page.body).toMatch(/Last used .* from 127\.0\.0\.1/);
    expect(page.body).toContain('No expiry date');
    expect(page.body).not.toContain('sesame_pat_');
  });

  it('api.token-page-refuses-bad-input: a past date, no scope and no name are each said clearly; the form keeps what was typed', async () => {
    const user = await signedIn();
    const { agent } = user;
    const form = await agent.go('/account/security/api-tokens/new');
    // First submission opens sudo mode with the password; the held form is then checked.
    const past = await confirmIfAsked(
      agent,
      await agent.submit(
        form,
        { name: 'Old', scopes: 'profile:read', validity: 'until', expires_at: '2020-01-01' },
        '/account/security/api-tokens"',
      ),
      user.password,
    );
    expect(past.status).toBe(400);
    expect(past.body).toContain('This date has passed. Choose today or a later day.');
    expect(past.body).toContain('value="Old"');
    const none = await agent.submit(past, { name: 'No scope', validity: 'unlimited' }, '/account/security/api-tokens"');
    expect(none.status).toBe(400);
    expect(none.body).toContain('Choose at least one permission.');
    const nameless = await agent.submit(none, { name: ' ', scopes: 'profile:read' }, '/account/security/api-tokens"');
    expect(nameless.status).toBe(400);
    expect(nameless.body).toMatch(/id="name-error">This field is required\./);
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(0);
    // Today is still allowed: the token works through the whole day.
    const today = new Date(testClock.now()).toISOString().slice(0, 10);
    const ok = await agent.submit(
      none,
      { name: 'Today', scopes: 'profile:read', validity: 'until', expires_at: today },
      '/account/security/api-tokens"',
    );
    expect(tokenOn(ok)).toBeTruthy();
  });

  it('api.revoked-token-refused: one, several and all — on the page and through the API — each refused at once', async () => {
    const user = await signedIn();
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const tokens = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await personalToken(srv, user.account, ALL, { name: n })])),
    ) as Record<string, string>;
    for (const n of names) expect((await profile(tokens[n]!)).status).toBe(200);
    const ids = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await idOf(tokens.a!, n)])));

    // API, one.
    expect((await api(srv, 'DELETE', `/1/tokens/${ids.b}`, { token: tokens.a })).status).toBe(204);
    expectRefused(await profile(tokens.b!));
    expect((await api(srv, 'DELETE', `/1/tokens/${ids.b}`, { token: tokens.a })).status).toBe(404);
    // API, several.
    const several = await api(srv, 'DELETE', '/1/tokens', { token: tokens.a, body: { ids: [ids.c, ids.d] } });
    expect(several.status).toBe(200);
    expect(several.body.data).toEqual({ revoked: expect.arrayContaining([ids.c, ids.d]), not_found: [] });
    expectRefused(await profile(tokens.c!));
    expectRefused(await profile(tokens.d!));
    const bad = await api(srv, 'DELETE', '/1/tokens', { token: tokens.a, body: { ids: [ids.e], all: true } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');

    // Page, one (its row's button) and several (checkboxes).
    const page = await user.agent.go('/account/security/api-tokens');
    const one = await user.agent.submit(page, { one: ids.e! }, '/api-tokens/revoke"');
    expect(one.url).toBe(`${srv.url}/account/security/api-tokens?done=revoked&n=1`);
    expectRefused(await profile(tokens.e!));
    const checked = await user.agent.submit(one, { ids: [ids.f!, ids.g!] }, '/api-tokens/revoke"');
    expect(checked.body).toContain('Tokens revoked: 2.');
    expectRefused(await profile(tokens.f!));
    expectRefused(await profile(tokens.g!));
    const nothing = await user.agent.submit(checked, {}, '/api-tokens/revoke"');
    expect(nothing.status).toBe(400);
    expect(nothing.body).toContain('Select at least one token.');
    expect((await profile(tokens.a!)).status).toBe(200);

    // API, all (the calling token too).
    const more = await personalToken(srv, user.account, ALL, { name: 'more' });
    const all = await api(srv, 'DELETE', '/1/tokens', { token: tokens.a, body: { all: true } });
    expect(all.status).toBe(200);
    expect(all.body.data.revoked).toHaveLength(2);
    expectRefused(await profile(tokens.a!));
    expectRefused(await profile(more));

    // Page, all: confirmed on its own page first.
    const x = await personalToken(srv, user.account, ALL, { name: 'x' });
    const y = await personalToken(srv, user.account, ALL, { name: 'y' });
    const confirm = await user.agent.go('/account/security/api-tokens/revoke-all');
    expect(confirm.body).toContain('(2 in all)');
    const unconfirmed = await user.agent.go('/account/security/api-tokens/revoke-all', {
      method: 'POST',
      form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(confirm.body)![1]! },
    });
    expect(unconfirmed.status).toBe(400);
    expect((await profile(x)).status).toBe(200);
    const done = await user.agent.submit(confirm, {}, '/revoke-all"');
    expect(done.body).toContain('Tokens revoked: 2.');
    expectRefused(await profile(x));
    expectRefused(await profile(y));

    const revoked = await activityOf(user.account.id, 'api_token_revoked');
    expect(revoked.map((r) => (r.details as { name: string }).name).sort()).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'more', 'x', 'y'].sort(),
    );
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(0);
  });

  it('api.token-create-checks: POST /1/tokens needs the password (a wrong one is a failed attempt) and gives no scope the caller lacks', async () => {
    const user = await createUser(srv);
    const caller = await personalToken(srv, user.account, ['tokens:write', 'profile:read'], { name: 'caller' });
    const body = { name: 'child', scopes: ['profile:read'], password: user.password };

    const wrong = await api(srv, 'POST', '/1/tokens', { token: caller, body: { ...body, password: 'nope nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('wrong_password');
    expect(await failureCount(srv, 'password', user.account.id)).toBe(1);
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(1);

    const wider = await api(srv, 'POST', '/1/tokens', {
      token: caller,
      body: { ...body, scopes: ['profile:read', 'sessions:write'] },
    });
    expect(wider.status).toBe(422);
    expect(wider.body.error.code).toBe('unprocessable');
    expect(wider.body.error.errors[0].context.attribute).toBe('scopes');
    const past = await api(srv, 'POST', '/1/tokens', {
      token: caller,
      body: { ...body, expires_at: new Date(testClock.now() - 1000).toISOString() },
    });
    expect(past.status).toBe(422);
    const unknown = await api(srv, 'POST', '/1/tokens', { token: caller, body: { ...body, scopes: ['root'] } });
    expect(unknown.status).toBe(400);
    const noPassword = await api(srv, 'POST', '/1/tokens', {
      token: caller,
      body: { name: 'x', scopes: ['profile:read'] },
    });
    expect(noPassword.status).toBe(400);
    expect(await srv.deps.personalTokens.count(user.account.id)).toBe(1);

    const made = await api(srv, 'POST', '/1/tokens', { token: caller, body });
    expect(made.status).toBe(201);
    expect(made.body.data).toMatchObject({ name: 'child', scopes: ['profile:read'], current: false, state: 'active' });
    const child = made.body.data.token as string;
    expect((await profile(child)).status).toBe(200);
    // The child may read the profile and nothing more.
    expect((await api(srv, 'GET', '/1/tokens', { token: child })).status).toBe(403);
    const list = await api(srv, 'GET', '/1/tokens', { token: await personalToken(srv, user.account, ['tokens:read']) });
    expect(list.text).not.toContain(child);
    expect(list.body.total).toBe(3);
    // The activity log says which token made it (its "device").
    const logged = await activityOf(user.account.id, 'api_token_created');
    expect(logged.find((a) => (a.details as { name?: string }).name === 'child')?.device).toBe('API · token “caller”');
  });

  it('api.token-outlives-its-maker: a token that expires makes tokens that expire with it at the latest; write implies read', async () => {
    const user = await createUser(srv);
    const until = new Date(testClock.now() + DAY);
    const caller = await personalToken(srv, user.account, ['tokens:write', 'profile:write'], { expiresAt: until });
    const body = { name: 'child', scopes: ['profile:read'], password: user.password };
    const forever = await api(srv, 'POST', '/1/tokens', { token: caller, body: { ...body, expires_at: null } });
    expect([forever.status, forever.body.error.errors?.[0]?.code]).toEqual([422, 'beyond_token_expiry']);
    const later = new Date(until.getTime() + DAY).toISOString();
    expect((await api(srv, 'POST', '/1/tokens', { token: caller, body: { ...body, expires_at: later } })).status).toBe(
      422,
    );
    // Left out, the expiry is the maker's; profile:write lets it hand on profile:read.
    const made = await api(srv, 'POST', '/1/tokens', { token: caller, body });
    expect(made.status).toBe(201);
    expect(made.body.data.expires_at).toBe(until.toISOString());
  });

  it('api.other-users-tokens: another user’s token ids are a 404 or "not found", and nothing of theirs changes', async () => {
    const alice = await signedIn();
    const bob = await createUser(srv);
    const aliceToken = await personalToken(srv, alice.account, ALL, { name: 'alice' });
    const aliceOther = await personalToken(srv, alice.account, ALL, { name: 'alice 2' });
    const bobToken = await personalToken(srv, bob.account, ALL, { name: 'bob' });
    const bobId = await idOf(bobToken, 'bob');
    const aliceOtherId = await idOf(aliceToken, 'alice 2');

    const single = await api(srv, 'DELETE', `/1/tokens/${bobId}`, { token: aliceToken });
    expect(single.status).toBe(404);
    expect(single.body.error.code).toBe('not_found');
    // Just like an id nobody has, and a malformed one.
    const unknown = await api(srv, 'DELETE', `/1/tokens/${crypto.randomUUID()}`, { token: aliceToken });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(single.body);
    expect((await api(srv, 'DELETE', '/1/tokens/not-a-uuid', { token: aliceToken })).status).toBe(404);

    const several = await api(srv, 'DELETE', '/1/tokens', { token: aliceToken, body: { ids: [bobId, aliceOtherId] } });
    expect(several.status).toBe(200);
    expect(several.body.data).toEqual({ revoked: [aliceOtherId], not_found: [bobId] });
    expectRefused(await profile(aliceOther));

    // The page: Bob's id among the checked ones revokes nothing of his.
    const page = await alice.agent.go('/account/security/api-tokens');
    const done = await alice.agent.submit(page, { ids: [bobId] }, '/api-tokens/revoke"');
    expect(done.body).toContain('Tokens revoked: 0.');
    // All of Alice's: Bob's stays.
    expect((await api(srv, 'DELETE', '/1/tokens', { token: aliceToken, body: { all: true } })).status).toBe(200);
    expect((await profile(bobToken)).status).toBe(200);
    expect(await srv.deps.personalTokens.count(bob.account.id)).toBe(1);
    expect((await activityOf(bob.account.id, 'api_token_revoked')).length).toBe(0);
    // Bob's list never shows Alice's.
    const bobs = await api(srv, 'GET', '/1/tokens', { token: bobToken });
    expect(bobs.body.data.map((t: { name: string }) => t.name)).toEqual(['bob']);
  });

  it('api.tokens-compromised-flow: "compromised password?" revokes every API token, and the done page counts them', async () => {
    const user = await signedIn();
    const one = await personalToken(srv, user.account, ALL, { name: 'one' });
    const two = await personalToken(srv, user.account, ALL, { name: 'two' });
    const form = await confirmIfAsked(user.agent, await user.agent.go('/account/compromised'), user.password);
    const next = 'another horse battery staple 43';
    const done = await user.agent.submit(
      form,
      { new_password: next, new_password_again: next },
      '/account/compromised"',
    );
    expect(done.body).toContain('id="compromised-done"');
    expect(done.body).toMatch(/id="credentials-revoked">App passwords and API tokens revoked: 2\./);
    expectRefused(await profile(one));
    expectRefused(await profile(two));
    expect((await activityOf(user.account.id, 'api_token_revoked')).length).toBe(2);
    // The activity page names each token.
    const log = await user.agent.go('/account/activity');
    expect(log.body).toMatch(/API token revoked<\/strong> <span class="hint">· (one|two)<\/span>/);
  });

  // The clock only moves forward: these two run last.
  it('api.expired-token-refused: a token works until its expiry, then is refused; its list says expired', async () => {
    const user = await createUser(srv);
    const keeper = await personalToken(srv, user.account, ALL, { name: 'keeper' });
    const made = await api(srv, 'POST', '/1/tokens', {
      token: keeper,
      body: {
        name: 'short',
        scopes: ['profile:read'],
        expires_at: new Date(testClock.now() + 3600_000).toISOString(),
        password: user.password,
      },
    });
    expect(made.status).toBe(201);
    const short = made.body.data.token as string;
    expect((await profile(short)).status).toBe(200);
    testClock.advance(3599_000);
    expect((await profile(short)).status).toBe(200);
    testClock.advance(2000);
    expectRefused(await profile(short));
    const list = await api(srv, 'GET', '/1/tokens', { token: keeper });
    expect(list.body.data.find((t: { name: string }) => t.name === 'short').state).toBe('expired');
  });

  it('api.idle-token-deactivated: a week before a year unused the owner is warned once, then the token is deactivated, emailed and logged; one used meanwhile is untouched', async () => {
    const user = await createUser(srv, { locale: 'fr' });
    const idle = await personalToken(srv, user.account, ALL, { name: 'Vieux script' });
    const used = await personalToken(srv, user.account, ALL, { name: 'Actif' });
    const idleId = await idOf(used, 'Vieux script');
    const row = async (id: string) => (await srv.deps.personalTokens.list(user.account.id)).find((r) => r.id === id);
    const usedId = await idOf(used, 'Actif');
    const kinds = () => mails(user.email).map((m) => m.kind);
    const sweep = async () => {
      await runIdleTokenSweep(srv.deps);
      await srv.drained();
    };

    testClock.advance(300 * DAY);
    // A use meanwhile: written after the answer, at most once a minute.
    expect((await profile(used)).status).toBe(200);
    for (let i = 0; i < 50 && (await row(usedId))!.lastUsedAt!.getTime() < testClock.now() - DAY; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await row(usedId))!.lastUsedAt!.getTime()).toBeGreaterThan(testClock.now() - DAY);

    testClock.advance(57 * DAY); // 357 days: not yet a week before
    await sweep();
    expect(kinds()).not.toContain('api_token_idle_warning');

    testClock.advance(2 * DAY); // 359 days
    // Two nodes sweeping at once, then again: one warning.
    await Promise.all([runIdleTokenSweep(srv.deps), runIdleTokenSweep(srv.deps)]);
    await sweep();
    const warnings = mails(user.email).filter((m) => m.kind === 'api_token_idle_warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.subject).toBe("Votre jeton d'API « Vieux script » sera désactivé dans une semaine");
    expect(warnings[0]!.text).toContain('/account/security/api-tokens');
    expect((await row(idleId))!.idleWarnedAt).not.toBeNull();
    expect((await row(idleId))!.deactivatedAt).toBeNull();
    expect((await row(usedId))!.idleWarnedAt).toBeNull();

    // The year is up: refused at once, before any sweep; the sweep then deactivates, emails, logs.
    testClock.advance(7 * DAY);
    expectRefused(await profile(idle));
    await sweep();
    await sweep();
    expect(kinds().filter((k) => k === 'api_token_deactivated')).toHaveLength(1);
    const gone = mails(user.email).find((m) => m.kind === 'api_token_deactivated')!;
    expect(gone.subject).toBe("Votre jeton d'API « Vieux script » a été désactivé");
    expect((await row(idleId))!.deactivatedAt).not.toBeNull();
    const logged = await activityOf(user.account.id, 'api_token_deactivated');
    expect(logged.map((a) => a.details)).toEqual([{ name: 'Vieux script' }]);
    expectRefused(await profile(idle));

    // The one used at day 300 is untouched and works.
    expect((await row(usedId))!.deactivatedAt).toBeNull();
    expect((await row(usedId))!.idleWarnedAt).toBeNull();
    expect((await profile(used)).status).toBe(200);
    const list = await api(srv, 'GET', '/1/tokens', { token: used });
    const states = Object.fromEntries(list.body.data.map((t: { name: string; state: string }) => [t.name, t.state]));
    expect(states).toEqual({ 'Vieux script': 'deactivated', Actif: 'active' });
  });
});
