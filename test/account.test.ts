// Profile, recovery, alerts and the compromised-password flow, through HTTP.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, createUser, createClient, uniqueEmail, type TestServer } from './helpers/server.ts';
import { Agent, authorize, type Page } from './helpers/agent.ts';
import { signInToAccount, signedInUser } from './helpers/mfa.ts';
import { formatDate } from '../src/http/i18n.ts';

const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];
const NEW_PASSWORD = 'a brand new passphrase 2026';

describe('account', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ env: { TRUST_PROXY: 'true' } });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const mails = (to: string) => srv.outbox().filter((m) => m.to === to);
  /** The authorization code of a completed sign-in, or null when the sign-in is refused — the login
   *  page again, 401 (or 429), with its error message. Anything else (a 500, an error redirect, an
   *  unexpected page) throws, so a broken server cannot pass for a refused password. */
  const signIn = async (email: string, password: string, agent = new Agent(srv.url)): Promise<string | null> => {
    let result: Awaited<ReturnType<typeof authorize>>;
    try {
      result = await authorize(agent, { clientId: web.clientId, redirectUri: web.redirectUri, email, password });
    } catch (err) {
      const page = (err as { page?: Page }).page;
      const refusal =
        page &&
        (
          {
            401: 'Wrong email or password.',
            429: 'Too many attempts. Please wait a few minutes and try again.',
          } as Record<number, string>
        )[page.status];
      if (
        page &&
        refusal &&
        /\/interaction\/[\w-]+\/login$/.test(new URL(page.url).pathname) &&
        page.body.includes('name="password"') &&
        alert(page) === refusal
      )
        return null;
      throw err;
    }
    if (!result.code) throw new Error(`the sign-in came back without a code: ${result.redirect}`);
    return result.code;
  };

  it('profile: name, language and time zone; bad input keeps what was typed', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/profile');
    const bad = await user.agent.submit(
      page,
      { given_name: 'Grace', family_name: 'Hopper', locale: 'fr', zoneinfo: 'Mars/Olympus' },
      '/account/profile"',
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('value="Grace"');
    const ok = await user.agent.submit(
      page,
      { given_name: 'Grace', family_name: 'Hopper', locale: 'fr', zoneinfo: 'Europe/Paris' },
      '/account/profile"',
    );
    expect(ok.body).toContain('Votre profil a été enregistré.');
    const a = (await srv.deps.repos.accounts.findById(user.account.id))!;
    expect([a.name, a.locale, a.zoneinfo]).toEqual(['Grace Hopper', 'fr', 'Europe/Paris']);
  });

  it('recovery contacts need the password; the recovery email must differ from the login email', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/profile');
    const same = await user.agent.submit(
      page,
      { recovery_email: user.email, password: user.password },
      '/recovery-email"',
    );
    expect(same.status).toBe(400);
    expect(alert(same)).toBe('The recovery email must differ from your login email.');
    const wrong = await user.agent.submit(
      page,
      { recovery_email: 'me@elsewhere.test', password: 'not my password' },
      '/recovery-email"',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('value="me@elsewhere.test"');
    await user.agent.submit(page, { recovery_email: 'me@elsewhere.test', password: user.password }, '/recovery-email"');
    const landline = await user.agent.submit(
      page,
      { country: 'CH', phone: '044 668 18 00', password: user.password },
      '/recovery-phone"',
    );
    expect(alert(landline)).toBe('This is not a mobile number. Enter a mobile number that can receive text messages.');
    const saved = await user.agent.submit(
      page,
      { country: 'CH', phone: '079 555 12 34', password: user.password },
      '/recovery-phone"',
    );
    expect(saved.body).toMatch(/<strong id="recovery-phone">\+41 •+34<\/strong>/);
    expect(mails(user.email).map((m) => m.kind)).toEqual([
      'security_recovery_email_changed',
      'security_recovery_phone_changed',
    ]);
  });

  it('change password: the current one is required, other devices are signed out, the owner is told', async () => {
    const user = await signedInUser(srv);
    const other = new Agent(srv.url);
    await signInToAccount(srv, other, user.email, user.password, '/account');
    const form = await user.agent.go('/account/profile/password');
    expect(
      (
        await user.agent.submit(
          form,
          { current_password: 'wrong wrong', new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
          '/password"',
        )
      ).status,
    ).toBe(401);
    expect(
      alert(
        await user.agent.submit(
          form,
          { current_password: user.password, new_password: NEW_PASSWORD, new_password_again: 'something else' },
          '/password"',
        ),
      ),
    ).toBe('The two new passwords are not the same.');
    expect(
      (
        await user.agent.submit(
          form,
          { current_password: user.password, new_password: 'password1', new_password_again: 'password1' },
          '/password"',
        )
      ).status,
    ).toBe(400);
    const done = await user.agent.submit(
      form,
      { current_password: user.password, new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
      '/password"',
    );
    expect(done.body).toContain('id="done"');
    expect((await other.go('/account')).body).toContain('name="password"'); // signed out
    expect((await user.agent.go('/account')).url).toBe(`${srv.url}/account`); // still signed in here
    expect(await signIn(user.email, NEW_PASSWORD)).toBeTruthy();
    expect(mails(user.email).map((m) => m.kind)).toContain('security_password_changed');
  });

  it('change login email: typed twice, password, confirmed by the new address; taken addresses are not revealed', async () => {
    const user = await signedInUser(srv);
    const taken = await createUser(srv);
    const form = await user.agent.go('/account/profile/email');
    const differ = await user.agent.submit(
      form,
      { email: 'a@new.test', email_again: 'b@new.test', password: user.password },
      '/email"',
    );
    expect(alert(differ)).toBe('The two email addresses are not the same.');
    const takenPage = await user.agent.submit(
      form,
      { email: taken.email, email_again: taken.email, password: user.password },
      '/email"',
    );
    const next = uniqueEmail('new');
    const freePage = await user.agent.submit(
      form,
      { email: next, email_again: next, password: user.password },
      '/email"',
    );
    expect(takenPage.status).toBe(freePage.status);
    expect(takenPage.body.replace(taken.email, 'X')).toBe(freePage.body.replace(next, 'X'));
    expect(mails(taken.email).at(-1)!.kind).toBe('signup_existing');
    const link = mails(next)
      .at(-1)!
      .text.match(/http\S+confirm-email-change\?token=[\w-]+/)![0];
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.email).toBe(user.email); // not before the link
    const browser = new Agent(srv.url);
    const confirmed = await browser.submit(await browser.go(link), {}, '/confirm-email-change"');
    expect(confirmed.body).toContain('id="email-changed"');
    expect(mails(user.email).at(-1)!.kind).toBe('security_email_changed'); // the old address is told
    expect(await signIn(next, user.password)).toBeTruthy();
    expect(await signIn(user.email, user.password)).toBeNull();
    const again = await browser.submit(await browser.go(link), {}, '/confirm-email-change"');
    expect(again.status).toBe(400);
  });

  it('delete account: password and confirmation; all its data and grants go', async () => {
    const user = await signedInUser(srv);
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
      scope: 'openid offline_access',
    });
    const tok = (await (
      await fetch(`${srv.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: web.redirectUri,
          client_id: web.clientId,
          client_secret: web.clientSecret,
        }),
      })
    ).json()) as { refresh_token: string };
    const orgs = srv.deps.repos.organizations;
    const personal = (await orgs.personalOf(user.account.id))!;
    // An organization with another member, and one with an application, stay (each with another
    // legal representative: the last one cannot go, test/org-members.test.ts).
    const shared = await orgs.create({ name: 'Shared', type: 'company' }, user.account.id);
    const colleague = await createUser(srv);
    await orgs.addMember(shared.id, colleague.account.id, 'legal_representative');
    const withApp = await orgs.create({ name: 'With app', type: 'association' }, user.account.id);
    await orgs.addMember(withApp.id, colleague.account.id, 'legal_representative');
    await srv.deps.applications.create(
      null,
      { name: 'Kept', type: 'service', redirectUris: [], postLogoutRedirectUris: [] },
      withApp.id,
    );
    const form = await user.agent.go('/account/profile/delete');
    expect((await user.agent.submit(form, { password: user.password }, '/delete"')).status).toBe(400);
    const gone = await user.agent.submit(form, { password: user.password, confirm: 'yes' }, '/delete"');
    expect(gone.body).toContain('id="deleted"');
    expect(await srv.deps.repos.accounts.findById(user.account.id)).toBeUndefined();
    // Its personal organization, named after it, goes too (it had no other member, no application).
    expect(personal).toBeDefined();
    expect(await orgs.findById(personal.id)).toBeUndefined();
    expect((await orgs.members(shared.id)).map((m) => m.email)).toEqual([colleague.email]);
    expect(await orgs.counts(withApp.id)).toEqual({ members: 1, applications: 1 });
    const refresh = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tok.refresh_token,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      }),
    });
    expect(refresh.status).toBe(400);
    expect(mails(user.email).at(-1)!.kind).toBe('account_deleted');
  });

  it('reset-link.single-use: a reset link works once (even twice in parallel) and ends every session', async () => {
    const user = await createUser(srv);
    const session = new Agent(srv.url);
    await signInToAccount(srv, session, user.email, user.password, '/account');
    const browser = new Agent(srv.url);
    await browser.submit(await browser.go('/forgot-password'), { email: user.email }, '/forgot-password"');
    const link = mails(user.email)
      .at(-1)!
      .text.match(/http\S+reset-password\?token=[\w-]+/)![0];
    const a = new Agent(srv.url);
    const b = new Agent(srv.url);
    const [pa, pb] = await Promise.all([a.go(link), b.go(link)]);
    const results = await Promise.all([
      a.submit(pa, { password: NEW_PASSWORD, password_again: NEW_PASSWORD }, '/reset-password"'),
      b.submit(pb, { password: `${NEW_PASSWORD}!`, password_again: `${NEW_PASSWORD}!` }, '/reset-password"'),
    ]);
    expect(results.filter((r) => r.body.includes('id="password-reset-done"'))).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(1);
    expect((await browser.go(link)).status).toBe(400);
    expect((await session.go('/account')).body).toContain('name="password"'); // the old session is gone
    const winner = results[0]!.body.includes('id="password-reset-done"') ? NEW_PASSWORD : `${NEW_PASSWORD}!`;
    expect(await signIn(user.email, winner)).toBeTruthy();
  });

  it("a refused new password keeps the reset page in the account's language, not the browser's", async () => {
    const user = await createUser(srv, { locale: 'de' });
    const browser = new Agent(srv.url, { 'accept-language': 'fr' });
    await browser.submit(await browser.go('/forgot-password'), { email: user.email }, '/forgot-password"');
    const link = mails(user.email)
      .at(-1)!
      .text.match(/http\S+reset-password\?token=[\w-]+/)![0];
    const form = await browser.go(link);
    expect(form.body).toContain('lang="de"');
    const refused = await browser.submit(form, { password: 'short', password_again: 'short' }, '/reset-password"');
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('lang="de"');
    expect(refused.body).toContain('Wählen Sie ein Passwort mit mindestens 10 Zeichen');
  });

  it('recovery.no-enumeration: forgotten password and forgotten login answer the same for unknown accounts', async () => {
    const user = await createUser(srv, { locale: 'es' });
    await srv.deps.repos.accounts.update(user.account.id, { recoveryEmail: 'ana.recovery@example.test' });
    const phone = '+41795551111';
    await srv.deps.profile.setRecoveryPhone((await srv.deps.repos.accounts.findById(user.account.id))!, phone, {
      ip: '127.0.0.1',
      device: '',
    });
    const ask = async (path: string, fields: Record<string, string>) => {
      const agent = new Agent(srv.url);
      const page = await agent.submit(await agent.go(path), fields, `${path}"`);
      return { status: page.status, text: page.body.match(/<main class="card">([\s\S]*)<\/main>/)![1]! };
    };
    const known = await ask('/forgot-password', { email: user.email });
    const unknown = await ask('/forgot-password', { email: uniqueEmail('nobody') });
    expect(unknown).toEqual(known);
    const viaRecovery = await ask('/forgot-password', { email: 'ana.recovery@example.test' });
    expect(viaRecovery).toEqual(known);
    expect(mails('ana.recovery@example.test').at(-1)!.kind).toBe('password_reset');

    const before = srv.smsOutbox().length;
    const knownPhone = await ask('/forgot-login', { method: 'sms', country: 'CH', phone: '079 555 11 11' });
    const unknownPhone = await ask('/forgot-login', { method: 'sms', country: 'CH', phone: '079 555 22 22' });
    expect(unknownPhone).toEqual(knownPhone);
    const sms = srv.smsOutbox().slice(before);
    expect(sms).toHaveLength(1);
    expect(sms[0]!.to).toBe(phone);
    expect(sms[0]!.text).toBe(`Tu usuario de Sesame: ${user.email}`);
    const knownEmail = await ask('/forgot-login', { method: 'email', recovery_email: 'ana.recovery@example.test' });
    const unknownEmail = await ask('/forgot-login', { method: 'email', recovery_email: uniqueEmail('nobody') });
    expect(unknownEmail).toEqual(knownEmail);
    expect(mails('ana.recovery@example.test').at(-1)!.kind).toBe('forgot_login');
  });

  it("alerts: a new device or network is always reported — in the user's language and time zone", async () => {
    const user = await createUser(srv, { locale: 'de' });
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Asia/Tokyo' });
    const laptop = new Agent(srv.url, {
      'x-forwarded-for': '203.0.113.10',
      'user-agent':
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    });
    expect(await signIn(user.email, user.password, laptop)).toBeTruthy(); // the first sign-in sets the baseline
    expect(mails(user.email)).toHaveLength(0);
    await laptop.go('/logout'); // same browser and network again: nothing
    const again = await authorize(laptop, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
      extra: { prompt: 'login' },
    });
    expect(again.code).toBeTruthy();
    expect(mails(user.email)).toHaveLength(0);
    const phone = new Agent(srv.url, {
      'x-forwarded-for': '198.51.100.77',
      'user-agent':
        'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36',
    });
    const at = new Date();
    expect(await signIn(user.email, user.password, phone)).toBeTruthy();
    const mail = mails(user.email).at(-1)!;
    expect(mail.kind).toBe('alert_new_device');
    expect(mail.subject).toBe('Neue Anmeldung bei Ihrem Sesame-Konto');
    expect(mail.text).toContain('198.51.100.77');
    expect(mail.text).toContain('Chrome 140 · Android 15');
    expect(mail.text).toContain('Test site');
    // The time is Tokyo's (UTC+9), in German.
    const candidates = [at, new Date(at.getTime() + 60_000)].map((d) => formatDate(d, 'de', 'Asia/Tokyo'));
    expect(candidates.some((c) => mail.text.includes(c))).toBe(true);
    expect(mail.text).toMatch(/http\S+\/account\/compromised/);
  });

  it('alerts: every sign-in and every failed password, when the user asks for them', async () => {
    const user = await createUser(srv, { locale: 'it' });
    await srv.deps.repos.accounts.update(user.account.id, {
      zoneinfo: 'America/New_York',
      alertEverySignIn: true,
      alertFailedPassword: true,
    });
    const agent = new Agent(srv.url, { 'x-forwarded-for': '203.0.113.20' });
    expect(await signIn(user.email, user.password, agent)).toBeTruthy();
    expect(mails(user.email).at(-1)!.kind).toBe('alert_sign_in');
    const attempt = new Agent(srv.url, { 'x-forwarded-for': '203.0.113.21' });
    await attempt.submit(
      await attempt.go(
        `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
      ),
      { email: user.email, password: 'not the right one' },
      '/login',
    );
    const mail = mails(user.email).at(-1)!;
    expect(mail.kind).toBe('alert_failed_password');
    expect(mail.subject).toBe('Tentativo di accesso fallito al tuo account Sesame');
    expect(mail.text).toContain('203.0.113.21');
  });

  it('compromised password: new password, other sessions ended, then the settings to review', async () => {
    const user = await signedInUser(srv);
    for (let i = 0; i < 2; i++) await signInToAccount(srv, new Agent(srv.url), user.email, user.password, '/account');
    const form = await user.agent.go('/account/compromised');
    expect(form.status).toBe(200);
    const done = await user.agent.submit(
      form,
      { new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
      '/account/compromised"',
    );
    expect(done.body).toContain('id="compromised-done"');
    expect(done.body).toMatch(/id="sessions-ended">Other sessions ended: 2\./);
    expect(done.body).toContain('href="/account/security"');
    expect(await srv.deps.sessions.list(user.account.id)).toHaveLength(1);
    expect(await signIn(user.email, NEW_PASSWORD)).toBeTruthy();
    expect(await signIn(user.email, user.password)).toBeNull(); // the compromised password is dead
  });
});
