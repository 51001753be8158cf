// Lockout, unlock and the activity log through HTTP, on every storage mode this run has.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import {
  startServer,
  storageModes,
  createUser,
  createClient,
  failureCount,
  type TestServer,
} from './helpers/server.ts';
import { Agent, authorize, type Page } from './helpers/agent.ts';
import { signedInUser, enrolTotp, totpCode, passwordStep } from './helpers/mfa.ts';

const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];

/** The owner's usual browser: it has completed a sign-in before, then signed out (only its device
 *  cookie is left). `password` answers the sign-in form in it (in a tab of its own: the test
 *  agent's cookie jar ignores paths, so parallel sign-ins each get one). */
async function usualBrowser(
  srv: TestServer,
  web: { clientId: string; redirectUri: string },
  user: { email: string; password: string },
) {
  const first = new Agent(srv.url);
  await authorize(first, { clientId: web.clientId, redirectUri: web.redirectUri, ...user });
  const device = first.cookies.get('sesame.device')!;
  expect(device).toBeTruthy();
  return {
    async password(password: string) {
      const tab = new Agent(srv.url);
      tab.cookies.set('sesame.device', device);
      const q = new URLSearchParams({
        client_id: web.clientId,
        redirect_uri: web.redirectUri,
        response_type: 'code',
        scope: 'openid',
      });
      return tab.submit(await tab.go(`/authorize?${q}`), { email: user.email, password }, '/login');
    },
  };
}
describe.each(storageModes())('lockout (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function userWithThreshold(threshold: number, over: Parameters<typeof createUser>[1] = {}) {
    const user = await createUser(srv, over);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: threshold });
    return user;
  }
  const wrong = (email: string, password = 'definitely not it') =>
    passwordStep(srv, web, email, password).then((r) => r.page);
  const activityOf = async (accountId: string, type: string) =>
    srv.deps.repos.activity.count(accountId, { types: [type] });

  it('lockout.parallel-guesses: 50 concurrent wrong passwords against a threshold of 5 — 5 are checked, then every try is refused', async () => {
    const user = await userWithThreshold(5);
    const pages = await Promise.all(Array.from({ length: 50 }, (_, i) => wrong(user.email, `guess number ${i}`)));
    expect(pages.every((p) => p.status === 401)).toBe(true);
    expect(new Set(pages.map(alert))).toEqual(new Set(['Wrong email or password.']));
    expect(await activityOf(user.account.id, 'sign_in_failed')).toBe(5);
    expect(await activityOf(user.account.id, 'locked')).toBe(1);
    expect(srv.outbox().filter((m) => m.to === user.email && m.kind === 'account_locked')).toHaveLength(1);
    // Locked: even the right password is refused, the same way.
    const right = await wrong(user.email, user.password);
    expect(right.status).toBe(401);
    expect(alert(right)).toBe('Wrong email or password.');
  });

  it('lockout.enumeration-by-message-or-timing: a locked account answers like a wrong password, after the same argon2 work', async () => {
    const locked = await userWithThreshold(3);
    for (let i = 0; i < 3; i++) await wrong(locked.email);
    expect((await srv.deps.repos.accounts.findById(locked.account.id))!.lockedAt).toBeTruthy();
    const other = await createUser(srv);
    const verifications = srv.deps.password.verifications;
    const measured = async (email: string, password: string) => {
      const before = { ...verifications };
      const page = await wrong(email, password);
      return { page, work: { real: verifications.real - before.real, dummy: verifications.dummy - before.dummy } };
    };
    for (let i = 0; i < 3; i++) {
      const a = await measured(locked.email, locked.password);
      const b = await measured(other.email, `nope ${i}`);
      expect(a.page.status).toBe(401);
      expect(b.page.status).toBe(401);
      expect(alert(a.page)).toBe('Wrong email or password.');
      expect(alert(b.page)).toBe(alert(a.page));
      // The locked account's hash is not checked (even the right password must not tell), but the
      // dummy one is: one verification either way.
      expect(a.work).toEqual({ real: 0, dummy: 1 });
      expect(b.work).toEqual({ real: 1, dummy: 0 });
    }
  });

  it('lockout.refresh-does-not-reset: refreshing tokens and reusing a session never clear failed attempts', async () => {
    const user = await userWithThreshold(3);
    const browser = new Agent(srv.url);
    const { code } = await authorize(browser, {
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
    await wrong(user.email);
    await wrong(user.email);
    const refreshed = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tok.refresh_token,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      }),
    });
    expect(refreshed.status).toBe(200);
    const silent = await authorize(browser, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    expect(silent.code).toBeTruthy(); // the existing session, no password asked
    expect(await failureCount(srv, 'password', user.account.id)).toBe(2);
    await wrong(user.email);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeTruthy();
  });

  it('failures older than 90 days are forgiven; recent ones add up', async () => {
    const user = await userWithThreshold(3);
    await wrong(user.email);
    await wrong(user.email);
    expect(await failureCount(srv, 'password', user.account.id)).toBe(2);
    // The same two failures, 91 days ago: the next one starts the count over instead of locking.
    await srv.deps.database.db.execute(
      sql`UPDATE accounts SET failed_at = now() - interval '91 days' WHERE id = ${user.account.id}`,
    );
    await wrong(user.email);
    expect(await failureCount(srv, 'password', user.account.id)).toBe(1);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeNull();
    await wrong(user.email);
    await wrong(user.email);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeTruthy();
  });

  it('wrong second-factor answers have their own budget; reaching it locks too', async () => {
    const user = await signedInUser(srv);
    const { secret } = await enrolTotp(user.agent);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
    await wrong(user.email);
    await wrong(user.email);
    const { agent, page } = await passwordStep(srv, web, user.email, user.password);
    let last = page;
    for (let i = 0; i < 2; i++) last = await agent.submit(last, { code: '000000' }, '/second-factor"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeNull();
    last = await agent.submit(last, { code: '000001' }, '/second-factor"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeTruthy();
    // Locked now: the right code does not get through either.
    expect((await agent.submit(last, { code: totpCode(secret, 0) }, '/second-factor"')).status).toBe(401);
  });

  const lockedAt = async (accountId: string) => (await srv.deps.repos.accounts.findById(accountId))!.lockedAt;

  it('lockout.stranger-cannot-lock-out-trusted-device: strangers lock the account for unknown browsers only', async () => {
    const owner = await createUser(srv); // the default threshold, 10
    const usual = await usualBrowser(srv, web, owner);
    // Ten anonymous wrong guesses, each from a browser the account does not know.
    for (let i = 0; i < 10; i++) expect((await wrong(owner.email)).status).toBe(401);
    expect(await lockedAt(owner.account.id)).toBeTruthy();
    // Locked for strangers, even with the right password (and still answering like a wrong one).
    const stranger = await wrong(owner.email, owner.password);
    expect(stranger.status).toBe(401);
    expect(alert(stranger)).toBe('Wrong email or password.');
    // The owner's usual browser signs in.
    const signedIn = await usual.password(owner.password);
    expect(signedIn.body).toContain('/confirm"');
    expect(signedIn.status).toBe(200);
    // ... which does not unlock the account for strangers.
    expect(await lockedAt(owner.account.id)).toBeTruthy();
    expect((await wrong(owner.email, owner.password)).status).toBe(401);
  });

  it('lockout.trusted-device-still-limited: a trusted browser that guesses wrong locks itself', async () => {
    const owner = await userWithThreshold(3);
    const usual = await usualBrowser(srv, web, owner);
    const before = srv.outbox().filter((m) => m.to === owner.email && m.kind === 'account_locked').length;
    // Parallel guesses from the trusted browser do not get past its budget either.
    const guesses = await Promise.all(Array.from({ length: 10 }, (_, i) => usual.password(`wrong guess ${i}`)));
    expect(guesses.every((p) => p.status === 401)).toBe(true);
    expect(await activityOf(owner.account.id, 'sign_in_failed')).toBe(3);
    expect((await usual.password(owner.password)).status).toBe(401);
    // Its own lock, emailed with an unlock link; the account's budget for other browsers is untouched.
    const mails = srv.outbox().filter((m) => m.to === owner.email && m.kind === 'account_locked');
    expect(mails).toHaveLength(before + 1);
    expect(await lockedAt(owner.account.id)).toBeNull();
    expect(await failureCount(srv, 'password', owner.account.id)).toBe(0);
    expect((await wrong(owner.email, owner.password)).body).toContain('/confirm"');
    // The link unlocks that browser too.
    const link = mails.at(-1)!.text.match(/http\S+\/unlock\?token=[\w-]+/)![0];
    const browser = new Agent(srv.url);
    expect((await browser.submit(await browser.go(link), {}, '/unlock"')).body).toContain('id="unlocked"');
    expect((await usual.password(owner.password)).body).toContain('/confirm"');
  });

  it('the emailed link unlocks once; with 2FA on it also needs a code; a completed sign-in resets the counters', async () => {
    const user = await signedInUser(srv, { locale: 'de' });
    const { backupCodes } = await enrolTotp(user.agent);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
    for (let i = 0; i < 3; i++) await wrong(user.email);
    const mail = srv
      .outbox()
      .filter((m) => m.to === user.email && m.kind === 'account_locked')
      .at(-1)!;
    expect(mail.subject).toBe('Ihr Sesame-Konto ist gesperrt');
    const link = mail.text.match(/http\S+\/unlock\?token=[\w-]+/)![0];
    const browser = new Agent(srv.url);
    const form = await browser.go(link);
    expect(form.body).toContain('name="code"');
    const bad = await browser.submit(form, { code: '12345-abcde' }, '/unlock"');
    expect(bad.status).toBe(401);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeTruthy();
    const ok = await browser.submit(bad, { code: backupCodes[0]! }, '/unlock"');
    expect(ok.body).toContain('id="unlocked"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeNull();
    expect(await failureCount(srv, 'password', user.account.id)).toBe(0);
    // The link was spent: submitting its form again is refused before any code is looked at.
    const again = await browser.submit(form, { code: backupCodes[1]! }, '/unlock"');
    expect(again.status).toBe(400);
    expect(again.body).toContain('<h1>This link is no longer valid</h1>');
    expect(await srv.deps.repos.backupCodes.remaining(user.account.id)).toBe(backupCodes.length - 1);
    expect((await browser.go(link)).status).toBe(400);
  });
});

describe('activity log and protection settings', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ env: { REAUTH_WINDOW_SECONDS: '0' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('records sign-ins, failures and changes; filters by type, application and date; pages through', async () => {
    const user = await createUser(srv, { locale: 'fr' });
    await srv.deps.repos.accounts.update(user.account.id, { zoneinfo: 'Pacific/Auckland' });
    const blog = await createClient(srv, { type: 'web', name: 'Blog' });
    const shop = await createClient(srv, { type: 'web', name: 'Shop' });
    await passwordStep(srv, blog, user.email, 'wrong password here');
    await authorize(new Agent(srv.url), {
      clientId: shop.clientId,
      redirectUri: shop.redirectUri,
      email: user.email,
      password: user.password,
    });
    for (let i = 0; i < 30; i++)
      await srv.deps.repos.activity.record({
        accountId: user.account.id,
        type: 'sign_in',
        clientId: blog.clientId,
        application: 'Blog',
        at: new Date(Date.UTC(2026, 0, 10, 12, i)),
      });

    const agent = new Agent(srv.url);
    const login = await agent.go('/account/activity');
    await agent.submit(login, { email: user.email, password: user.password }, '/login');
    const all = await agent.go('/account/activity');
    expect(all.status).toBe(200);
    expect(all.body).toMatch(/Page 1 sur 2 \(33 événements\)/);
    expect(all.body).toContain('id="older"');
    const failures = await agent.go(`/account/activity?type=sign_in_failed`);
    expect([...failures.body.matchAll(/<tr data-type="([a-z_]+)"/g)].map((m) => m[1])).toEqual(['sign_in_failed']);
    expect(failures.body).toContain('Blog');
    const shopOnly = await agent.go(`/account/activity?app=${shop.clientId}`);
    expect([...shopOnly.body.matchAll(/<tr data-type="([a-z_]+)"/g)].map((m) => m[1])).toEqual(['sign_in']);
    // Days are the user's: 2026-01-11 in Auckland (UTC+13) starts at 2026-01-10T11:00Z.
    const day = await agent.go('/account/activity?from=2026-01-11&to=2026-01-11&type=sign_in');
    expect(day.body).toMatch(/\(30 événements\)/);
    const before = await agent.go('/account/activity?to=2026-01-10');
    expect(before.body).toContain('id="no-activity"');
    const bad = await agent.go('/account/activity?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('value="yesterday"');
  });

  it('entries older than ACTIVITY_RETENTION_DAYS are deleted by the cleanup, newer ones kept', async () => {
    const user = await createUser(srv);
    const old = new Date(Date.now() - (srv.config.activityRetentionDays + 1) * 86_400_000);
    await srv.deps.repos.activity.record({ accountId: user.account.id, type: 'sign_in', at: old });
    await srv.deps.repos.activity.record({ accountId: user.account.id, type: 'sign_in' });
    const cutoff = new Date(Date.now() - srv.config.activityRetentionDays * 86_400_000);
    expect(await srv.deps.repos.activity.deleteOlderThan(cutoff, 1000)).toBeGreaterThanOrEqual(1);
    expect(await srv.deps.repos.activity.count(user.account.id, {})).toBe(1);
  });

  it("the lockout threshold is the user's choice, within 3 to 50, after the password again", async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/security');
    const ask = await user.agent.submit(page, { lockout_threshold: '4', alert_every_sign_in: 'yes' }, '/protection"');
    expect(ask.url).toContain('/account/security/confirm-password');
    // Once the password is confirmed, the change is applied.
    const applied = await user.agent.submit(ask, { password: user.password }, '/confirm-password"');
    expect(applied.url).toContain('/account/security?done=protection');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockoutThreshold).toBe(4);
    const tooLow = await user.agent.submit(
      await user.agent.go('/account/security'),
      { lockout_threshold: '2', alert_failed_password: 'yes' },
      '/protection"',
    );
    expect(tooLow.status).toBe(400);
    expect(tooLow.body).toContain('value="2"');
    // What was ticked stays ticked (a field named like "…password" is not a password).
    expect(tooLow.body).toMatch(/name="alert_failed_password" value="yes" checked/);
    await user.agent.submit(
      await user.agent.go('/account/security'),
      { lockout_threshold: '4', alert_every_sign_in: 'yes' },
      '/protection"',
    );
    const account = (await srv.deps.repos.accounts.findById(user.account.id))!;
    expect(account.lockoutThreshold).toBe(4);
    expect(account.alertEverySignIn).toBe(true);
    expect(account.alertFailedPassword).toBe(false);
    expect(
      srv
        .outbox()
        .filter((m) => m.to === user.email)
        .at(-1)!.kind,
    ).toBe('security_protection_changed');
    expect(await srv.deps.repos.activity.count(user.account.id, { types: ['protection_changed'] })).toBe(1);
  });
});

describe('lockout: the per-account rate limit', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: '3' } });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("lockout.stranger-cannot-lock-out-trusted-device: strangers filling the account's window do not rate-limit its usual browser", async () => {
    const owner = await createUser(srv);
    const usual = await usualBrowser(srv, web, owner);
    for (let i = 0; i < 3; i++) await passwordStep(srv, web, owner.email, 'not the password');
    const limited = await passwordStep(srv, web, owner.email, owner.password);
    expect(limited.page.status).toBe(429);
    expect((await usual.password(owner.password)).body).toContain('/confirm"');
  });
});
