// Managing app passwords (issue 14 item 1) through the pages and the REST API, as their owner does:
// shown once (the page, the API's 201) and never again, not even in the database; listed with their
// last use; refused at once by the forward-auth endpoint once revoked — one, all, from the page or
// the API, by the compromised-password flow, a password change, a reset by email, 2FA turned off
// (unless the user ticked "keep"), or `sesame user reset-2fa`; offered only with 2FA; the creation
// emailed in the owner's language.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  primaryStorageMode,
  createUser,
  uniqueEmail,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, decodeEntities, plainBasic, type Page } from './helpers/agent.ts';
import { signedInUser, enrolTotp } from './helpers/mfa.ts';
import { api, personalToken } from './helpers/api.ts';
import { waitFor } from './helpers/processes.ts';
import { normalizeAppPassword } from '../src/app-passwords/format.ts';
import { runCli } from '../src/cli/main.ts';

const PAGE = '/account/security/app-passwords';
const NEW_PASSWORD = 'a brand new passphrase 77';
const occurrences = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const catalog = (locale: string) =>
  JSON.parse(fs.readFileSync(path.join('views', 'locales', 'app-passwords', `${locale}.json`), 'utf8')) as {
    email: { appPasswordCreated: { subject: string; body: string } };
  };

describe.each(primaryStorageMode())('app password management (%s storage)', (mode) => {
  let srv: TestServer;
  /** The store prefix, for the command line to reach the running server's nodes (REDIS_PREFIX). */
  const storePrefix = `sesame-test:mgmt-${crypto.randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    srv = await startServer({ mode, env: { TRUST_PROXY: 'true' }, storePrefix });
  }, 60_000);
  afterAll(async () => srv?.stop());

  /** What a reverse proxy is answered for this login and password. */
  async function forward(login: string, password: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${srv.url}/auth/forward`, {
      headers: { authorization: plainBasic(login, password), ...headers },
    });
    await res.text();
    return res.status;
  }
  /** "Forgot password?" in a fresh browser, the emailed link followed, NEW_PASSWORD chosen: the
   *  page it ends on. */
  async function resetByEmail(email: string): Promise<Page> {
    const browser = new Agent(srv.url);
    await browser.submit(await browser.go('/forgot-password'), { email, method: 'email' }, '/forgot-password"');
    const mail = srv
      .outbox()
      .filter((m) => m.to === email && m.kind === 'password_reset')
      .at(-1);
    const link = mail?.text.match(/http\S+\/reset-password\?token=[\w-]+/)?.[0] ?? '';
    expect(link).not.toBe('');
    return browser.submit(
      await browser.go(link),
      { password: NEW_PASSWORD, password_again: NEW_PASSWORD },
      '/reset-password"',
    );
  }
  /** A signed-in user (recently: no password asked again) with an authenticator app. */
  async function withTwoFactor(over: Parameters<typeof createUser>[1] = {}) {
    const user = await signedInUser(srv, over);
    const { secret } = await enrolTotp(user.agent);
    return { ...user, totp: secret };
  }
  /** Creates one on the App passwords page, as the form posts it; the page it lands on, and the value. */
  async function createOnPage(agent: Agent, name: string): Promise<{ page: Page; secret: string }> {
    const list = await agent.go(PAGE);
    expect(list.body).toContain('id="new-app-password-form"');
    const page = await agent.submit(list, { name }, `${PAGE}"`);
    expect(page.status).toBe(200);
    expect(page.url).toMatch(new RegExp(`${PAGE}/created\\?shown=`));
    const secret = decodeEntities(page.body.match(/<code id="app-password">([^<]+)<\/code>/)?.[1] ?? '');
    expect(secret).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    return { page, secret };
  }
  const idOf = async (accountId: string, name: string) =>
    (await srv.deps.appPasswords.list(accountId)).find((r) => r.name === name)?.id ?? '';
  async function revokeOnPage(agent: Agent, id: string) {
    const confirm = await agent.go(`${PAGE}/${id}/revoke`);
    expect(confirm.status).toBe(200);
    return agent.submit(confirm, {}, `${PAGE}/${id}/revoke"`);
  }
  async function revokeAllOnPage(agent: Agent) {
    const confirm = await agent.go(`${PAGE}/revoke-all`);
    expect(confirm.url).toBe(`${srv.url}${PAGE}/revoke-all`);
    return agent.submit(confirm, { confirm: 'yes' }, `${PAGE}/revoke-all"`);
  }
  const rowsInDb = async (accountId: string) =>
    (
      (await srv.deps.database.db.execute(
        sql`SELECT row_to_json(t)::text AS j, t.secret_hash AS h FROM app_passwords t WHERE t.account_id = ${accountId}`,
      )) as unknown as { rows: Array<{ j: string; h: string }> }
    ).rows;

  it('app-password.shown-once: the value is on the creation page once and in the API 201 once, never again in the list, the result URL, the API list or the database; the list shows name, creation and last use', async () => {
    const user = await withTwoFactor();
    const { page, secret } = await createOnPage(user.agent, 'Thunderbird on laptop');
    expect(occurrences(page.body, secret)).toBe(1);
    expect(page.body).toContain(`<code id="app-password-username">${user.email}</code>`);
    expect(page.body).toContain('id="copy-app-password"');
    expect(page.body).toContain('id="shown-once"');

    // The result URL again (a reload, the back button): said to be spent, the value gone.
    const again = await user.agent.go(page.url);
    expect(again.status).toBe(200);
    expect(again.body).toContain('id="app-password-spent"');
    const bare = normalizeAppPassword(secret) ?? '';
    for (const p of [again, await user.agent.go(PAGE), await user.agent.go(PAGE)]) {
      expect(p.body).not.toContain(secret);
      expect(p.body).not.toContain(bare);
    }
    let list = await user.agent.go(PAGE);
    expect(list.body).toContain('Thunderbird on laptop');
    expect(list.body).toMatch(/class="hint created">Created [^<]+</);
    expect(list.body).toContain('Never used');

    // Used through the forward-auth endpoint behind a proxy: the list says when, from where, for what.
    const proxy = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'dav.example.test' };
    expect(await forward(user.email, secret, proxy)).toBe(200);
    await waitFor('the use written', async () => (await srv.deps.appPasswords.list(user.account.id))[0]?.lastUsedAt);
    list = await user.agent.go(PAGE);
    expect(list.body).toMatch(/class="hint last-use">Last used [^<]+ from 203\.0\.113\.7 for dav\.example\.test</);
    expect(list.body).not.toContain(secret);

    // The database holds an HMAC, not the value in any form.
    const [stored] = await rowsInDb(user.account.id);
    expect(stored?.h).toMatch(/^hmac-sha256:/);
    expect(stored?.h).not.toBe(secret);
    for (const form of [secret, bare, bare.toUpperCase(), secret.replace(/-/g, ' ')])
      expect(stored?.j.toLowerCase()).not.toContain(form.toLowerCase());

    // The API: the value in the 201 once, and in no answer after it.
    const token = await personalToken(srv, user.account, ['app_passwords:write']);
    const made = await api(srv, 'POST', '/1/app-passwords', {
      token,
      body: { name: 'DAVx5 on phone', password: user.password },
    });
    expect(made.status).toBe(201);
    const value = made.body.data.password as string;
    expect(value).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(made.body.data).toMatchObject({ name: 'DAVx5 on phone', username: user.email, last_used_at: null });
    expect(occurrences(made.text, value)).toBe(1);
    expect(await forward(user.email, value, { 'x-forwarded-for': '203.0.113.8' })).toBe(200);
    const used = await waitFor('the API one used', async () => {
      const answer = await api(srv, 'GET', '/1/app-passwords', { token });
      const row = answer.body.data.find((r: { id: string }) => r.id === made.body.data.id);
      return row?.last_used_at ? answer : undefined;
    });
    expect(used.text).not.toContain(value);
    expect(used.text).not.toContain(secret);
    expect(used.body.data.map((r: { name: string }) => r.name)).toEqual(['DAVx5 on phone', 'Thunderbird on laptop']);
    expect(used.body.data[0]).toMatchObject({ last_used_ip: '203.0.113.8', last_used_service: null });
    expect(used.body.data[1]).toMatchObject({ last_used_ip: '203.0.113.7', last_used_service: 'dav.example.test' });
    for (const row of await rowsInDb(user.account.id)) expect(row.j).not.toContain(normalizeAppPassword(value));
    expect((await user.agent.go(PAGE)).body).not.toContain(value);
  });

  it('app-password.revoked-refused: revoked on the page (one, then all) or through the API (one, then all), each is refused at once while the others still work', async () => {
    const user = await withTwoFactor();
    const a = await createOnPage(user.agent, 'Laptop mail');
    const b = await createOnPage(user.agent, 'Phone calendar');
    const c = await createOnPage(user.agent, 'File sync');
    for (const p of [a, b, c]) expect(await forward(user.email, p.secret)).toBe(200);

    const done = await revokeOnPage(user.agent, await idOf(user.account.id, 'Laptop mail'));
    expect(done.url).toBe(`${srv.url}${PAGE}?done=revoked&n=1`);
    expect(done.body).toContain('App passwords revoked: 1.');
    expect(done.body).not.toContain('Laptop mail');
    expect(await forward(user.email, a.secret)).toBe(401);
    expect(await forward(user.email, b.secret)).toBe(200);
    expect(await forward(user.email, c.secret)).toBe(200);

    const all = await revokeAllOnPage(user.agent);
    expect(all.url).toBe(`${srv.url}${PAGE}?done=revoked&n=2`);
    expect(all.body).toContain('App passwords revoked: 2.');
    expect(all.body).toContain('id="no-app-passwords"');
    for (const p of [a, b, c]) expect(await forward(user.email, p.secret)).toBe(401);
    // Without the confirmation's CSRF token, nothing is revoked.
    const d = await createOnPage(user.agent, 'Without CSRF');
    const forged = await user.agent.request(`${PAGE}/revoke-all`, { form: { confirm: 'yes' } });
    expect(forged.status).toBe(403);
    expect(await forward(user.email, d.secret)).toBe(200);
    await revokeAllOnPage(user.agent);

    // The same through the API.
    const token = await personalToken(srv, user.account, ['app_passwords:write']);
    const make = async (name: string) =>
      (await api(srv, 'POST', '/1/app-passwords', { token, body: { name, password: user.password } })).body.data as {
        id: string;
        password: string;
      };
    const [x, y, z] = [await make('API one'), await make('API two'), await make('API three')];
    for (const p of [x, y, z]) expect(await forward(user.email, p.password)).toBe(200);
    expect((await api(srv, 'DELETE', `/1/app-passwords/${x.id}`, { token })).status).toBe(204);
    expect(await forward(user.email, x.password)).toBe(401);
    expect(await forward(user.email, y.password)).toBe(200);
    expect((await api(srv, 'DELETE', `/1/app-passwords/${x.id}`, { token })).status).toBe(404);
    const revoked = await api(srv, 'DELETE', '/1/app-passwords', { token });
    expect(revoked.status).toBe(200);
    expect([...revoked.body.data.revoked].sort()).toEqual([y.id, z.id].sort());
    for (const p of [x, y, z]) expect(await forward(user.email, p.password)).toBe(401);
    const types = (await srv.deps.repos.activity.list(user.account.id, {}, { limit: 50, offset: 0 })).map(
      (r) => r.type,
    );
    expect(types.filter((t) => t === 'app_password_revoked')).toHaveLength(7);
  });

  it('app-password.revoked-by-compromised-flow: "Compromised password?" revokes every app password and says how many', async () => {
    const user = await withTwoFactor();
    const a = await createOnPage(user.agent, 'Mail');
    const b = await createOnPage(user.agent, 'Calendar');
    const form = await user.agent.go('/account/compromised');
    expect(form.status).toBe(200);
    const done = await user.agent.submit(
      form,
      { new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
      '/account/compromised',
    );
    expect(done.status).toBe(200);
    expect(done.body).toContain('id="compromised-done"');
    // Two app passwords, no API token: the page counts the credentials revoked.
    expect(done.body).toMatch(/<li id="credentials-revoked">[^<]*\b2\b[^<]*<\/li>/);
    for (const p of [a, b]) expect(await forward(user.email, p.secret)).toBe(401);
    expect(await srv.deps.appPasswords.count(user.account.id)).toBe(0);
  });

  it('app-password.revoked-by-password-change: a password change on the profile page revokes every app password, and the user is told', async () => {
    const user = await withTwoFactor();
    const a = await createOnPage(user.agent, 'Mail');
    const form = await user.agent.go('/account/profile/password');
    const done = await user.agent.submit(
      form,
      { current_password: user.password, new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
      '/account/profile/password',
    );
    expect(done.url).toBe(`${srv.url}/account/profile?done=password&app_passwords_revoked=1`);
    expect(done.body).toContain('id="app-passwords-revoked"');
    expect(done.body).toContain('App passwords revoked with your password change: 1.');
    expect(await forward(user.email, a.secret)).toBe(401);
  });

  it('app-password.revoked-by-password-reset: a password reset by email revokes every app password, and the user is told', async () => {
    const user = await withTwoFactor();
    const a = await createOnPage(user.agent, 'Mail');
    const b = await createOnPage(user.agent, 'Files');
    const done = await resetByEmail(user.email);
    expect(done.body).toContain('id="password-reset-done"');
    expect(done.body).toContain('App passwords revoked with your password change: 2.');
    for (const p of [a, b]) expect(await forward(user.email, p.secret)).toBe(401);
  });

  it('app-password.kept-with-2fa-off-only-if-confirmed: turning 2FA off says what becomes of them; ticked "keep" they still work, unticked they are refused', async () => {
    // Kept: 2FA off from the Security page's "turn off", the box ticked.
    const keeper = await withTwoFactor();
    const k1 = await createOnPage(keeper.agent, 'Mail');
    const k2 = await createOnPage(keeper.agent, 'Calendar');
    const confirm = await keeper.agent.go('/account/security/disable');
    expect(confirm.body).toContain(
      '<p id="app-passwords-warning">You have 2 app passwords. Unless you keep them below, they are all revoked now',
    );
    expect(confirm.body).toContain('Keep my 2 app passwords working');
    expect(confirm.body).toMatch(/name="keep_app_passwords" value="yes" id="keep-app-passwords">/);
    const kept = await keeper.agent.submit(
      confirm,
      { confirm_disable: 'yes', keep_app_passwords: 'yes' },
      '/account/security/disable"',
    );
    expect(kept.url).toBe(`${srv.url}/account/security?done=disabled`);
    expect(kept.body).not.toContain('id="app-passwords-revoked"');
    for (const p of [k1, k2]) expect(await forward(keeper.email, p.secret)).toBe(200);
    const list = await keeper.agent.go(PAGE);
    expect(list.body).toContain('id="kept-without-2fa"');
    expect(list.body).not.toContain('id="new-app-password-form"');

    // Not kept: 2FA off by removing the last method, the box left unticked.
    const user = await withTwoFactor();
    const a = await createOnPage(user.agent, 'Mail');
    const b = await createOnPage(user.agent, 'Files');
    const [factor] = (await srv.deps.security.overview(user.account.id)).factors;
    const removal = await user.agent.go(`/account/security/factors/${factor?.id}/remove`);
    expect(removal.body).toContain('id="app-passwords-warning"');
    expect(removal.body).toContain('You have 2 app passwords.');
    const off = await user.agent.submit(removal, { confirm_disable: 'yes' }, '/remove"');
    expect(off.url).toBe(`${srv.url}/account/security?done=disabled&app_passwords_revoked=2`);
    expect(off.body).toContain('Your app passwords were revoked with two-step verification: 2.');
    for (const p of [a, b]) expect(await forward(user.email, p.secret)).toBe(401);
    expect(await srv.deps.appPasswords.count(user.account.id)).toBe(0);
  });

  it('app-password.needs-2fa: without 2FA the page offers no creation, its POST is refused, the API answers 409 two_factor_required; nothing is made', async () => {
    const user = await signedInUser(srv);
    const list = await user.agent.go(PAGE);
    expect(list.status).toBe(200);
    expect(list.body).toContain('id="needs-2fa"');
    expect(list.body).not.toContain('id="new-app-password-form"');
    expect(list.body).not.toContain('id="create-app-password"');
    // The form posted anyway (a stale tab, a forged page), with a valid CSRF token from the session.
    const csrf = list.body.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '';
    expect(csrf).not.toBe('');
    const refused = await user.agent.go(PAGE, {
      method: 'POST',
      form: { _csrf: decodeEntities(csrf), name: 'Sneaky' },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(refused.body).toContain('App passwords need two-step verification: turn it on first.');
    expect(refused.body).not.toContain('id="app-password"');

    const token = await personalToken(srv, user.account, ['app_passwords:write']);
    const answer = await api(srv, 'POST', '/1/app-passwords', {
      token,
      body: { name: 'Sneaky', password: user.password },
    });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('two_factor_required');
    expect(await srv.deps.appPasswords.count(user.account.id)).toBe(0);
    expect(srv.outbox().filter((m) => m.to === user.email && m.kind === 'app_password_created')).toEqual([]);
  });

  it.each(['fr', 'de'])(
    "app-password.creation-emailed: the creation email is in the owner's language (%s)",
    async (locale) => {
      const user = await withTwoFactor({ locale });
      await createOnPage(user.agent, 'Thunderbird');
      const token = await personalToken(srv, user.account, ['app_passwords:write']);
      await api(srv, 'POST', '/1/app-passwords', { token, body: { name: 'DAVx5', password: user.password } });
      const mails = srv.outbox().filter((m) => m.to === user.email && m.kind === 'app_password_created');
      expect(mails).toHaveLength(2);
      const { subject, body } = catalog(locale).email.appPasswordCreated;
      const [before, after] = body.split('{when}') as [string, string];
      for (const [mail, name] of [
        [mails[0], 'Thunderbird'],
        [mails[1], 'DAVx5'],
      ] as const) {
        expect(mail?.subject).toBe(subject.replace('{name}', name));
        // The sentence around the date and the address, as the catalog has it.
        for (const part of [before, ...after.split('{ip}')])
          expect(mail?.text).toContain(part.replace('{name}', name).trim());
        expect(mail?.text).toContain(`${srv.url}${PAGE}`);
      }
    },
  );

  it('app-password.revoked-by-admin-2fa-reset: `sesame user reset-2fa` turns 2FA off and revokes the app passwords (nobody confirmed keeping them), refused at once', async () => {
    // The command line on the running server's database (PostgreSQL + Redis: the cache of the
    // running server is told through Redis), or on its stopped embedded database.
    const email = uniqueEmail('reset2fa');
    const own = mode === 'embedded' ? await startServer({ mode, env: { TRUST_PROXY: 'true' } }) : srv;
    const { account } = await createUser(own, { email });
    await own.deps.repos.secondFactors.create({
      accountId: account.id,
      type: 'totp',
      name: 'Lost',
      secret: 'v1.x.y.z',
    });
    const by = { ip: '127.0.0.1', device: 'test' };
    const { secret } = await own.deps.appPasswords.create(account.id, 'Mail', by);
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATA_DIR: own.dataDir,
      KEYS_DIR: own.config.keysDir,
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: storePrefix,
    };
    let server = own;
    if (mode === 'embedded') {
      delete env.DATABASE_URL;
      delete env.REDIS_URL;
      await own.stop();
    } else {
      const res = await fetch(`${srv.url}/auth/forward`, { headers: { authorization: plainBasic(email, secret) } });
      expect(res.status).toBe(200);
    }
    let stdout = '';
    const code = await runCli(['user', 'reset-2fa', '--email', email], {
      env,
      stdout: (s) => void (stdout += s),
      stderr: () => {},
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      email,
      second_factors_removed: 1,
      app_passwords_revoked: 1,
      two_factor: 'off',
    });
    if (mode === 'embedded') server = await startServer({ mode, dataDir: own.dataDir, env: { TRUST_PROXY: 'true' } });
    try {
      const res = await fetch(`${server.url}/auth/forward`, { headers: { authorization: plainBasic(email, secret) } });
      expect(res.status).toBe(401);
      expect(await server.deps.appPasswords.count(account.id)).toBe(0);
      // 2FA off: the account password works there again.
      const pwd = await fetch(`${server.url}/auth/forward`, {
        headers: { authorization: plainBasic(email, STRONG_PASSWORD) },
      });
      expect(pwd.status).toBe(200);
    } finally {
      if (server !== srv) await server.stop();
    }
  }, 120_000);

  it('app-password.revoked-by-fresh-start: the owner of an address taking back an unconfirmed account (a reset by email) revokes the app passwords whoever signed up made, and is told', async () => {
    const squatted = await createUser(srv, { emailVerified: false });
    const { account } = squatted;
    const by = { ip: '127.0.0.1', device: 'test' };
    await srv.deps.repos.secondFactors.create({
      accountId: account.id,
      type: 'totp',
      name: 'Squatter',
      secret: 'v1.x.y.z',
    });
    const { secret } = await srv.deps.appPasswords.create(account.id, 'Squatter mail', by);
    expect(await forward(squatted.email, secret)).toBe(200);
    const done = await resetByEmail(squatted.email);
    expect(done.body).toContain('App passwords revoked with your password change: 1.');
    expect(await forward(squatted.email, secret)).toBe(401);
    expect(await srv.deps.appPasswords.count(account.id)).toBe(0);
    expect(await srv.deps.repos.secondFactors.count(account.id)).toBe(0);
  });
});
