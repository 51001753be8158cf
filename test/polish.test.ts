// Dead ends and polish a user notices (issue 10, items 17, 20 and 21), through HTTP: ways back from
// every page, the account menu, emails that greet by name and name their time zone, French dates,
// translated default method names, the favicon, and the order methods are offered in.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createClient, uniqueEmail, type TestServer } from './helpers/server.ts';
import { Agent, authorize, decodeEntities, findForm, type Page } from './helpers/agent.ts';
import { signedInUser, enrolTotp, passwordStep } from './helpers/mfa.ts';
import { testClock } from './helpers/clock.ts';
import { DeviceClient } from '../src/kauth/device-client.ts';

const NEW_PASSWORD = 'a brand new passphrase 2026';

/** The account menu's links as [href, aria-current or ''], in order; undefined without a menu. */
function menuOf(page: Page): Array<[string, string]> | undefined {
  const nav = page.body.match(/<nav class="account-menu"[\s\S]*?<\/nav>/)?.[0];
  if (!nav) return undefined;
  return [...nav.matchAll(/<a href="([^"]+)"[^>]*?(?: aria-current="([^"]+)")?>/g)].map((m) => [m[1]!, m[2] ?? '']);
}

/** The plain-text body of the last email to `to` of `kind`. */
function lastMail(srv: TestServer, to: string, kind?: string) {
  const mail = srv
    .outbox()
    .filter((m) => m.to === to && (!kind || m.kind === kind))
    .at(-1);
  if (!mail) throw new Error(`no ${kind ?? ''} email to ${to}`);
  return mail;
}

describe.each(storageModes())('polish (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web', name: 'Example Blog' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function changePassword(agent: Agent, current: string) {
    const form = await agent.go('/account/profile/password');
    const done = await agent.submit(
      form,
      { current_password: current, new_password: NEW_PASSWORD, new_password_again: NEW_PASSWORD },
      '/account/profile/password',
    );
    expect(done.status).toBe(200);
  }

  it('pages.signed-out-has-sign-in-link: the signed-out page after RP-initiated logout leads to signing in again', async () => {
    const user = await signedInUser(srv);
    const agent = new Agent(srv.url);
    await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const confirm = await agent.go('/logout');
    const done = await agent.submit(confirm, { logout: 'yes' });
    expect(done.body).toContain('id="logged-out"');
    const link = done.body.match(/<a class="button" href="([^"]+)" id="sign-in-again">([^<]+)</);
    expect(link?.[2]).toBe('Sign in again');
    const next = await agent.go(decodeEntities(link![1]!));
    expect(next.status).toBe(200);
    expect(next.body).toContain('name="password"');
  });

  it('pages.csrf-failure-links-back: an expired form links back to the page it was on, only on this site', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/profile');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    const form = findForm(page.body, '/account/profile"');
    const post = (referer?: string) =>
      user.agent.request(form.action, {
        method: 'POST',
        form: { _csrf: 'stale-token', given_name: 'Ada', family_name: 'Lovelace' },
        headers: referer ? { referer } : {},
      });
    const reloadLink = (body: string) => body.match(/<a class="button" href="([^"]+)" id="error-reload">([^<]+)</);
    const home = (body: string) => body.match(/<a href="([^"]+)" id="error-home">/)?.[1];

    const same = await post(`${srv.url}/account/profile?tab=names`);
    expect(same.status).toBe(403);
    const body = await same.text();
    expect(body).toContain('id="error-code">csrf_failed<');
    expect(reloadLink(body)?.[1]).toBe('/account/profile?tab=names');
    expect(reloadLink(body)?.[2]).toBe('Reload the form and try again');
    expect(home(body)).toBe('/');
    // Another site, a path a browser would read as another host, no Referer at all: home only.
    for (const referer of ['https://evil.example/account/profile', `${srv.url}//evil.example/x`, undefined]) {
      const other = await (await post(referer)).text();
      expect(other).toContain('id="error-code">csrf_failed<');
      expect(reloadLink(other)).toBeNull();
      expect(home(other)).toBe('/');
    }
  });

  it('pages.error-page-has-way-home: a missing page and an internal error both offer the way home', async () => {
    const missing = await new Agent(srv.url).go('/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(/<a href="\/" id="error-home">Go to the home page</);

    const user = await signedInUser(srv);
    const repo = srv.deps.repos.secondFactors;
    const list = repo.list;
    repo.list = () => Promise.reject(new Error('database went away'));
    try {
      const broken = await user.agent.go('/account/security');
      expect(broken.status).toBe(500);
      expect(broken.body).toContain('id="error-code">internal<');
      expect(broken.body).toMatch(/<a href="\/" id="error-home">Go to the home page</);
      expect(menuOf(broken)?.map(([href]) => href)).toContain('/account/security'); // and the menu
    } finally {
      repo.list = list;
    }
  });

  it('pages.compromised-has-cancel: the compromised-password flow can be left without changing anything', async () => {
    const user = await signedInUser(srv, { locale: 'fr' });
    const page = await user.agent.go('/account/compromised');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<a href="\/account\/security" id="cancel">Annuler<\/a>/);
  });

  it('pages.account-menu: every account page has the menu, the section viewed marked aria-current', async () => {
    const user = await signedInUser(srv);
    const sections = [
      '/account/profile',
      '/account/security',
      '/account/sessions',
      '/account/activity',
      '/account/applications',
      '/account/organizations',
    ];
    const pages: Array<[string, string | undefined, 'page' | 'true' | undefined]> = [
      ['/account', undefined, undefined],
      ...sections.map((s): [string, string, 'page'] => [s, s, 'page']),
      ['/account/profile/password', '/account/profile', 'true'],
      ['/account/profile/email', '/account/profile', 'true'],
      ['/account/security/totp/new', '/account/security', 'true'],
      ['/account/compromised', '/account/security', 'true'],
      ['/account/applications/new', '/account/applications', 'true'],
      ['/account/organizations/new', '/account/organizations', 'true'],
    ];
    for (const [path, current, how] of pages) {
      const page = await user.agent.go(path);
      expect(page.status, path).toBe(200);
      const menu = menuOf(page);
      expect(
        menu?.map(([href]) => href),
        path,
      ).toEqual([...sections, '/logout']);
      expect(
        menu!.filter(([, c]) => c),
        path,
      ).toEqual(current ? [[current, how]] : []);
    }
    const labels = [...(await user.agent.go('/account')).body.matchAll(/id="[a-z]+-link"[^>]*>([^<]+)</g)].map(
      (m) => m[1],
    );
    expect(labels).toEqual([
      'Profile',
      'Security',
      'Signed-in devices',
      'Activity',
      'Applications',
      'Organizations',
      'Sign out',
    ]);
    // Public pages have none.
    for (const path of ['/', '/signup']) expect(menuOf(await new Agent(srv.url).go(path)), path).toBeUndefined();
  });

  it('emails.greet-by-name: emails to a confirmed address say "Hello Ada," in the reader\'s language', async () => {
    const cases: Array<[string, string]> = [
      ['en', 'Hello Ada,'],
      ['fr', 'Bonjour Ada,'],
      ['de', 'Hallo Ada,'],
      ['it', 'Ciao Ada,'],
      ['es', 'Hola, Ada:'],
    ];
    for (const [locale, hello] of cases) {
      const user = await signedInUser(srv, { locale, givenName: 'Ada' });
      await changePassword(user.agent, user.password);
      const mail = lastMail(srv, user.email, 'security_password_changed');
      expect(mail.text.split('\n')[0], locale).toBe(hello);
      expect(mail.html).toContain(`<p>${hello}</p>`);
    }
    // An address never confirmed is not greeted with the name someone typed at sign-up.
    const agent = new Agent(srv.url);
    const email = uniqueEmail('unconfirmed');
    const signup = await agent.go('/signup');
    await agent.submit(signup, { given_name: 'Mallory', family_name: 'Evil', email, password: NEW_PASSWORD });
    const stranger = new Agent(srv.url);
    await stranger.submit(await stranger.go('/forgot-password'), { email });
    const mail = lastMail(srv, email, 'password_reset');
    expect(mail.text.split('\n')[0]).toBe('Hello,');
    expect(mail.text).not.toContain('Mallory');
  });

  it("emails.time-zone-label: times in emails name the recipient's time zone", async () => {
    const user = await signedInUser(srv);
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Europe/Zurich' });
    await changePassword(user.agent, user.password);
    const mail = lastMail(srv, user.email, 'security_password_changed');
    expect(mail.text).toMatch(
      /Your password was changed on \w+ \d{1,2}, \d{4} at \d{1,2}:\d{2}\s?[AP]M \(Europe\/Zurich\)\./,
    );
  });

  it('emails.german-word-order: the change notices put the verb where German puts it', async () => {
    const user = await signedInUser(srv, { locale: 'de' });
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Europe/Berlin' });
    await changePassword(user.agent, user.password);
    const mail = lastMail(srv, user.email, 'security_password_changed');
    expect(mail.text).toMatch(
      /\nAm \d{1,2}\. \p{L}+ \d{4} um \d{2}:\d{2} \(Europe\/Berlin\) wurde Ihr Passwort geändert\.\n/u,
    );
    expect(mail.text).not.toContain('geändert am');
  });

  it("i18n.default-method-name-translated: a method left with its default name reads in the reader's language", async () => {
    const user = await signedInUser(srv, { locale: 'en' });
    // The enrolment form suggests the default name in the language of the day; the user keeps it.
    const form = await user.agent.go('/account/security/totp/new');
    const suggested = decodeEntities(form.body.match(/<input[^>]*name="name"[^>]*value="([^"]*)"/)?.[1] ?? '');
    expect(suggested).toBe('Authenticator app');
    await enrolTotp(user.agent, suggested);
    const [row] = await srv.deps.repos.secondFactors.list(user.account.id, 'totp');
    await srv.deps.repos.accounts.update(user.account.id, { locale: 'fr' });

    const security = await user.agent.go('/account/security');
    expect(security.body).toContain('<strong>Application d&#39;authentification</strong>');
    expect(security.body).not.toContain('Authenticator app');
    const rename = await user.agent.go(`/account/security/factors/${row!.id}/rename`);
    expect(decodeEntities(rename.body.match(/<input[^>]*name="name"[^>]*value="([^"]*)"/)![1]!)).toBe(
      "Application d'authentification",
    );
    // A name the user chose is theirs, in every language.
    await srv.deps.repos.secondFactors.rename(user.account.id, row!.id, 'Mein Handy');
    expect((await user.agent.go('/account/security')).body).toContain('<strong>Mein Handy</strong>');
  });

  it('pages.favicon: /favicon.ico is an icon, and pages link an SVG one', async () => {
    const ico = await fetch(`${srv.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toMatch(/^image\/(vnd\.microsoft\.icon|x-icon)/);
    expect([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0]);
    const home = await new Agent(srv.url).go('/');
    const href = home.body.match(/<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/)![1]!;
    const svg = await fetch(`${srv.url}${href}`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toContain('<svg');
  });

  it('pages.methods-in-likely-order: authenticator app first, then security key, SMS, kAuth app', async () => {
    const user = await signedInUser(srv);
    const security = await user.agent.go('/account/security');
    const offered = [...security.body.matchAll(/id="add-(\w+)"/g)].map((m) => m[1]);
    expect(offered).toEqual(['totp', 'webauthn', 'sms', 'push']);

    // An account with an app (its default), then a kAuth phone and an SMS number added.
    await enrolTotp(user.agent, 'My phone');
    const push = await user.agent.go('/account/security/push/new');
    await DeviceClient.link(decodeEntities(push.body.match(/<code id="enrolment-url">([^<]+)<\/code>/)![1]!), 'Pixel');
    const phone = '+41791234567';
    const code = await user.agent.submit(
      await user.agent.go('/account/security/sms/new'),
      { name: 'Mobile', country: 'CH', phone },
      '/account/security/sms"',
    );
    const sms = srv
      .smsOutbox()
      .filter((m) => m.to === phone)
      .at(-1)!;
    await user.agent.submit(code, { code: sms.text.match(/\b(\d{6})\b/)![1]! }, '/sms/confirm"');
    expect((await srv.deps.repos.secondFactors.list(user.account.id)).map((r) => r.type).sort()).toEqual([
      'push',
      'sms',
      'totp',
    ]);

    const { page } = await passwordStep(srv, web, user.email, user.password);
    expect(page.body).toContain('name="code"'); // opens on the default, the app
    const others = page.body.match(/<section class="other-methods"[\s\S]*?<\/section>/)![0];
    expect([...others.matchAll(/data-method="(\w+)"/g)].map((m) => m[1])).toEqual(['sms', 'push', 'backup_code']);
  });

  it('pages.push-enrolment-speaks-to-users: the kAuth page has no developer command', async () => {
    const user = await signedInUser(srv, { locale: 'de' });
    const page = await user.agent.go('/account/security/push/new');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('sesame device');
    expect(page.body).not.toMatch(/Referenz-Client|reference client/i);
    expect(page.body).toContain('Geben Sie stattdessen diesen Link in der kAuth-App ein');
    expect(page.body).toMatch(/<code id="enrolment-url">http[^<]+\/1\/devices\/enrol\/[^<]+<\/code>/);
  });

  it('i18n.french-first-of-month: "1er décembre" on pages and in emails', async () => {
    const user = await signedInUser(srv, { locale: 'fr' });
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Europe/Zurich', lockoutThreshold: 3 });
    await enrolTotp(user.agent);
    const [row] = await srv.deps.repos.secondFactors.list(user.account.id, 'totp');
    await srv.deps.repos.secondFactors.touch(row!.id, new Date('2025-12-01T13:05:00Z'));
    const security = await user.agent.go('/account/security');
    expect(security.body).toContain('1er décembre 2025 à 14:05');
    expect(security.body).not.toMatch(/[^\d]1 décembre/);

    // The lock email is dated by the server's clock: move it to noon on the next first of a month.
    const now = new Date(testClock.now());
    const first = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 12);
    testClock.advance(first - testClock.now());
    const agent = new Agent(srv.url);
    for (let i = 0; i < 3; i++) {
      const q = new URLSearchParams({
        client_id: web.clientId,
        redirect_uri: web.redirectUri,
        response_type: 'code',
        scope: 'openid',
      });
      await agent.submit(
        await agent.go(`/authorize?${q}`),
        { email: user.email, password: `wrong guess ${i}` },
        '/login',
      );
    }
    const mail = lastMail(srv, user.email, 'account_locked');
    expect(mail.text).toMatch(
      /verrouillé le 1er \p{L}+ \d{4} à 13:00 \(Europe\/Zurich\)|verrouillé le 1er \p{L}+ \d{4} à 14:00 \(Europe\/Zurich\)/u,
    );
  });
});
