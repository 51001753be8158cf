// Forgotten password, forgotten login and "unlock my account" through HTTP, on every storage mode
// this run has: the answers and their timing say nothing about an account, the user chooses email or
// SMS, a locked user can always get a fresh unlock link, and a recovery mobile may be from anywhere.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createUser, createClient, uniqueEmail, type TestServer } from './helpers/server.ts';
import { Agent, authorize, decodeEntities, findForm, type Page } from './helpers/agent.ts';
import { passwordStep, signedInUser } from './helpers/mfa.ts';

const NEW_PASSWORD = 'a brand new passphrase 7';
const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];
/** The page's own content, without what differs per request (CSRF token, a flow id). */
const mainOf = (page: Page) =>
  page.body
    .match(/<main class="card">([\s\S]*)<\/main>/)![1]!
    .replace(/name="(_csrf|flow)" value="[^"]*"/g, 'name="$1" value=""');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};

/** A mail server and an SMS gateway that each take `delayMs` to accept a message, as real ones do. */
async function slowTransports(delayMs: number) {
  const { SMTPServer } = await import('smtp-server');
  const mails: string[] = [];
  const sms: Array<{ to: string; text: string }> = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => setTimeout(() => (mails.push(raw), callback()), delayMs));
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const gateway = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () =>
      setTimeout(() => {
        sms.push(JSON.parse(raw));
        res.writeHead(202).end();
      }, delayMs),
    );
  });
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  return {
    env: {
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      SMS_GATEWAY_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`,
    },
    mails,
    sms,
    async close() {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => gateway.close(() => r()));
    },
  };
}

describe.each(storageModes())('recovery timing (%s storage)', (mode) => {
  let srv: TestServer;
  let transports: Awaited<ReturnType<typeof slowTransports>>;
  const DELAY = 100;
  beforeAll(async () => {
    transports = await slowTransports(DELAY);
    srv = await startServer({ mode, env: transports.env });
  });
  afterAll(async () => {
    await srv?.stop();
    await transports?.close();
  });

  /** Posts a form with fetch itself (an Agent would wait for the mail), timing the answer alone. */
  async function timedPoster(path: string) {
    const agent = new Agent(srv.url);
    const page = await agent.go(path);
    const { hidden } = findForm(page.body, `${path}"`);
    return async (fields: Record<string, string>) => {
      const started = performance.now();
      const res = await fetch(`${srv.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader() },
        body: new URLSearchParams({ ...hidden, ...fields }),
      });
      await res.text();
      expect(res.status).toBe(200);
      return performance.now() - started;
    };
  }
  /** ~30 answers each, interleaved (so background work weighs on both), the medians compared. */
  async function compare(
    post: (f: Record<string, string>) => Promise<number>,
    known: () => Record<string, string>,
    unknown: () => Record<string, string>,
  ) {
    const times = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 3; i++) await post(unknown()); // warm up
    for (let i = 0; i < 30; i++) {
      if (i % 2) {
        times.known.push(await post(known()));
        times.unknown.push(await post(unknown()));
      } else {
        times.unknown.push(await post(unknown()));
        times.known.push(await post(known()));
      }
    }
    return Math.abs(median(times.known) - median(times.unknown));
  }

  it('recovery.enumeration-by-timing: forgotten password and login answer as fast for an account as for none, with a 100 ms mail server and SMS gateway', async () => {
    const user = await createUser(srv);
    const phone = '+41795553311';
    await srv.deps.profile.setRecoveryPhone(user.account, phone, { ip: '127.0.0.1', device: '' });
    const sentBefore = transports.mails.length;

    const reset = await timedPoster('/forgot-password');
    const resetGap = await compare(
      reset,
      () => ({ email: user.email, method: 'email' }),
      () => ({ email: uniqueEmail('nobody'), method: 'email' }),
    );
    const code = await compare(
      reset,
      () => ({ email: user.email, method: 'sms' }),
      () => ({ email: uniqueEmail('nobody'), method: 'sms' }),
    );
    const login = await timedPoster('/forgot-login');
    let n = 0;
    const loginGap = await compare(
      login,
      () => ({ method: 'sms', country: 'CH', phone: '079 555 33 11' }),
      () => ({ method: 'sms', country: 'CH', phone: `079 555 ${String(40 + (n++ % 50)).padStart(2, '0')} 22` }),
    );
    // Well under the transport's delay (it was 100+ ms when the answer waited for it).
    expect(resetGap, 'reset link').toBeLessThan(DELAY / 4);
    expect(code, 'reset code').toBeLessThan(DELAY / 4);
    expect(loginGap, 'login by SMS').toBeLessThan(DELAY / 4);

    // Every message did go out, after the answers: one per request for the account, none otherwise.
    await srv.drained();
    expect(transports.mails.length - sentBefore).toBe(30);
    expect(transports.sms.filter((s) => s.to === phone)).toHaveLength(60);
    expect(transports.sms.every((s) => s.to === phone)).toBe(true);
  });
});

describe.each(storageModes())('recovery (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode, env: { RATE_LIMIT_EMAIL_PER_RECIPIENT: '5' } });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const mails = (to: string, kind?: string) => srv.outbox().filter((m) => m.to === to && (!kind || m.kind === kind));
  const linkIn = (text: string, path: string) => text.match(new RegExp(`http\\S+${path}\\?token=[\\w-]+`))![0];
  const signsIn = async (email: string, password: string) =>
    (await authorize(new Agent(srv.url), { clientId: web.clientId, redirectUri: web.redirectUri, email, password }))
      .code !== null;
  async function lockedUser(over: Parameters<typeof createUser>[1] = {}) {
    const user = await createUser(srv, over);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
    for (let i = 0; i < 3; i++) await passwordStep(srv, web, user.email, `wrong guess ${i}`);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeTruthy();
    return user;
  }
  async function ask(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    const agent = new Agent(srv.url, headers);
    return agent.submit(await agent.go(path), fields, `${path}"`);
  }

  it('lockout.unlock-link-can-be-requested-again: a locked user asks for a fresh link; the answer is the same for any address', async () => {
    const user = await lockedUser();
    const first = linkIn(mails(user.email, 'account_locked')[0]!.text, '/unlock');
    // The sign-in page's answer and the forgotten-password page lead there.
    const refused = (await passwordStep(srv, web, user.email, user.password)).page;
    expect(refused.body).toContain('href="/unlock/request"');
    expect((await new Agent(srv.url).go('/forgot-password')).body).toContain('href="/unlock/request"');

    const locked = await ask('/unlock/request', { email: user.email });
    const notLocked = await ask('/unlock/request', { email: (await createUser(srv)).email });
    const nobody = await ask('/unlock/request', { email: uniqueEmail('nobody') });
    expect(locked.status).toBe(200);
    expect(locked.body).toContain('id="recovery-sent"');
    expect(mainOf(notLocked)).toBe(mainOf(locked));
    expect(mainOf(nobody)).toBe(mainOf(locked));
    const sent = srv.outbox().filter((m) => m.kind === 'unlock_link');
    expect(sent.map((m) => m.to)).toEqual([user.email]);
    expect(sent[0]!.subject).toBe('Unlock your Sesame account');

    // The fresh link works; the first one stopped working when it was made.
    const fresh = linkIn(sent[0]!.text, '/unlock');
    expect((await new Agent(srv.url).go(first)).status).toBe(400);
    const browser = new Agent(srv.url);
    const done = await browser.submit(await browser.go(fresh), {}, '/unlock"');
    expect(done.body).toContain('id="unlocked"');
    expect(await signsIn(user.email, user.password)).toBe(true);

    // Limited per address, the same way whether or not it has an account.
    const address = uniqueEmail('flood');
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await ask('/unlock/request', { email: address })).status);
    expect(answers).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('lockout.reset-clears-lock: a completed password reset by email unlocks the account', async () => {
    const user = await lockedUser();
    await ask('/forgot-password', { email: user.email });
    const link = linkIn(mails(user.email, 'password_reset').at(-1)!.text, '/reset-password');
    const browser = new Agent(srv.url);
    const done = await browser.submit(
      await browser.go(link),
      { password: NEW_PASSWORD, password_again: NEW_PASSWORD },
      '/reset-password"',
    );
    expect(done.body).toContain('id="password-reset-done"');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockedAt).toBeNull();
    expect(await signsIn(user.email, NEW_PASSWORD)).toBe(true);
    expect(await srv.deps.repos.activity.count(user.account.id, { types: ['unlocked'] })).toBe(1);
  });

  it('recovery.reset-by-sms-code: the forgotten-password page offers a code by SMS, and looks the same whether or not the account has a recovery mobile', async () => {
    const user = await createUser(srv, { locale: 'fr' });
    const phone = '+33612345670';
    await srv.deps.profile.setRecoveryPhone(user.account, phone, { ip: '127.0.0.1', device: '' });
    const withoutMobile = await createUser(srv);
    const before = srv.smsOutbox().length;

    const page = await new Agent(srv.url).go('/forgot-password');
    expect(page.body).toContain('name="method" value="email"');
    expect(page.body).toContain('name="method" value="sms"');
    const answers = await Promise.all(
      [user.email, withoutMobile.email, uniqueEmail('nobody')].map(async (email) => {
        const agent = new Agent(srv.url);
        return { agent, page: await agent.submit(await agent.go('/forgot-password'), { email, method: 'sms' }) };
      }),
    );
    const [mine, noMobile, nobody] = answers;
    expect(mine!.page.status).toBe(200);
    expect(mine!.page.body).toContain('id="reset-code"');
    expect(mainOf(noMobile!.page)).toBe(mainOf(mine!.page));
    expect(mainOf(nobody!.page)).toBe(mainOf(mine!.page));
    const sms = srv.smsOutbox().slice(before);
    expect(sms.map((s) => s.to)).toEqual([phone]);
    expect(sms[0]!.kind).toBe('reset_code');
    const code = sms[0]!.text.match(/\b(\d{6})\b/)![1]!;
    expect(sms[0]!.text).toContain('Votre code Sesame');

    // A wrong code, or any code where nothing was sent, gets the same answer.
    const wrong = code === '000000' ? '111111' : '000000';
    const refused = await Promise.all([
      mine!.agent.submit(mine!.page, { code: wrong }, '/forgot-password/code"'),
      noMobile!.agent.submit(noMobile!.page, { code }, '/forgot-password/code"'),
      nobody!.agent.submit(nobody!.page, { code }, '/forgot-password/code"'),
    ]);
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
    const withoutTyped = (p: Page) => mainOf(p).replace(/(name="code"[^>]*value=")\d+"/, '$1"');
    expect(new Set(refused.map(withoutTyped)).size).toBe(1);
    expect(alert(refused[0]!)).toBe('Verification failed. Check the code or your key and try again.');

    const form = await mine!.agent.submit(mine!.page, { code }, '/forgot-password/code"');
    expect(form.url).toContain('/reset-password?token=');
    expect(form.body).toContain('lang="fr"');
    const done = await mine!.agent.submit(
      form,
      { password: NEW_PASSWORD, password_again: NEW_PASSWORD },
      '/reset-password"',
    );
    expect(done.body).toContain('id="password-reset-done"');
    expect(await signsIn(user.email, NEW_PASSWORD)).toBe(true);
    // The code worked once.
    const again = await mine!.agent.submit(mine!.page, { code }, '/forgot-password/code"');
    expect(again.status).toBe(400);
  });

  it('recovery.forgot-login-choice: the login goes by SMS to the recovery mobile or by email to the recovery email, as the user chooses', async () => {
    const user = await createUser(srv, { locale: 'de' });
    const phone = '+491701234567';
    const recoveryEmail = uniqueEmail('backup');
    await srv.deps.repos.accounts.update(user.account.id, { recoveryEmail });
    await srv.deps.profile.setRecoveryPhone(user.account, phone, { ip: '127.0.0.1', device: '' });
    const page = await new Agent(srv.url).go('/forgot-login');
    expect(page.body).toContain('id="by-sms"');
    expect(page.body).toContain('id="by-email"');

    const before = srv.smsOutbox().length;
    const byEmail = await ask('/forgot-login', { method: 'email', recovery_email: recoveryEmail });
    expect(byEmail.body).toContain('id="recovery-sent"');
    expect(mails(recoveryEmail, 'forgot_login')).toHaveLength(1);
    expect(mails(recoveryEmail, 'forgot_login')[0]!.text).toContain(user.email);
    expect(srv.smsOutbox().length).toBe(before);

    const bySms = await ask('/forgot-login', { method: 'sms', country: 'DE', phone: '0170 1234567' });
    expect(bySms.body).toContain('id="recovery-sent"');
    expect(srv.smsOutbox().slice(before)).toEqual([
      expect.objectContaining({ to: phone, kind: 'forgot_login', text: `Ihr Sesame-Anmeldename: ${user.email}` }),
    ]);
    expect(mails(recoveryEmail, 'forgot_login')).toHaveLength(1);
  });

  it('recovery.mobile-any-country: a recovery mobile may be from any country; an SMS second factor still may not', async () => {
    const user = await signedInUser(srv);
    const profile = await user.agent.go('/account/profile');
    expect(profile.body).toMatch(/<option value="GB" >[^<]+\(\+44\)<\/option>/);
    const saved = await user.agent.submit(
      profile,
      { country: 'GB', phone: '07400 123456', password: user.password },
      '/recovery-phone"',
    );
    expect(alert(saved)).toBeUndefined();
    expect(saved.body).toMatch(/<strong id="recovery-phone">\+44 •+56<\/strong>/);
    // Found by it when the login is forgotten.
    const before = srv.smsOutbox().length;
    await ask('/forgot-login', { method: 'sms', country: 'GB', phone: '+44 7400 123456' });
    expect(
      srv
        .smsOutbox()
        .slice(before)
        .map((s) => s.to),
    ).toEqual(['+447400123456']);

    const factor = await user.agent.submit(
      await user.agent.go('/account/security/sms/new'),
      { name: 'UK', country: 'CH', phone: '+44 7400 123456' },
      '/account/security/sms"',
    );
    expect(factor.status).toBe(400);
    expect(alert(factor)).toBe(
      'SMS codes can only be sent to mobile numbers in Switzerland, France, Belgium or Germany.',
    );
  });

  it('recovery.spent-link-points-to-a-new-one: a spent or expired reset link leads to the forgotten-password page, not to an account the user cannot open', async () => {
    const page = await new Agent(srv.url, { 'accept-language': 'it' }).go('/reset-password?token=' + 'x'.repeat(43));
    expect(page.status).toBe(400);
    expect(page.body).toContain('href="/forgot-password"');
    expect(page.body).toContain('href="/unlock/request"');
    expect(decodeEntities(page.body)).toContain('Richiedi un nuovo link per reimpostare la password');
  });

  it('form.recovery-field-errors: the forgotten-password and forgotten-login forms name the failed field, input kept', async () => {
    const empty = await ask('/forgot-password', { email: '' }, { 'accept-language': 'es' });
    expect(empty.status).toBe(400);
    const input = empty.body.match(/<input[^>]*name="email"[^>]*>/)![0];
    expect(input).toContain('aria-invalid="true"');
    expect(input).toContain('aria-describedby="email-error"');
    expect(empty.body).toContain('<p class="field-error" id="email-error">Este campo es obligatorio.</p>');

    const bad = await ask('/forgot-login', { method: 'email', recovery_email: 'not-an-email' });
    expect(bad.status).toBe(400);
    const email = bad.body.match(/<input[^>]*name="recovery_email"[^>]*>/)![0];
    expect(email).toContain('aria-invalid="true"');
    expect(email).toContain('value="not-an-email"');
    expect(bad.body).toContain('id="recovery_email-error">Enter a valid email address, like name@example.com.</p>');

    const phone = await ask('/forgot-login', { method: 'sms', country: 'CH', phone: '' });
    expect(phone.body.match(/<input[^>]*name="phone"[^>]*>/)![0]).toContain('aria-invalid="true"');
    expect(phone.body).toContain('id="phone-error">This field is required.</p>');
  });
});
