// Sign-in, sign-up and verification pages through HTTP: messages, CSRF, languages, bad input.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  createUser,
  createClient,
  uniqueEmail,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';

describe('pages', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer();
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function loginPage(agent: Agent, extra: Record<string, string> = {}): Promise<Page> {
    return agent.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid email profile', ...extra })}`,
    );
  }

  it('the sign-in form has fields named email and password and a submit button', async () => {
    const page = await loginPage(new Agent(srv.url));
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<input[^>]*name="email"/);
    expect(page.body).toMatch(/<input[^>]*name="password"/);
    expect(page.body).toMatch(/<button type="submit"/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('login.enumeration-by-message-or-timing: a wrong email and a wrong password look the same and cost the same argon2 work', async () => {
    const { email } = await createUser(srv);
    const verifications = srv.deps.password.verifications;
    // One sign-in attempt, and the argon2 verifications it ran (against a real hash or the dummy).
    const attempt = async (e: string, p: string) => {
      const agent = new Agent(srv.url);
      const page = await loginPage(agent);
      const before = { ...verifications };
      const res = await agent.submit(page, { email: e, password: p }, '/login');
      return { res, work: { real: verifications.real - before.real, dummy: verifications.dummy - before.dummy } };
    };
    for (let i = 0; i < 3; i++) {
      const a = await attempt(uniqueEmail('nobody'), 'Wrong password 123');
      const b = await attempt(email, 'Wrong password 123');
      expect(a.res.status).toBe(401);
      expect(b.res.status).toBe(401);
      expect(a.res.body.match(/<p class="alert"[^>]*>([^<]*)</)![1]).toBe('Wrong email or password.');
      expect(b.res.body.match(/<p class="alert"[^>]*>([^<]*)</)![1]).toBe('Wrong email or password.');
      // The unknown email is checked against the dummy hash: one verification, like the wrong password's.
      expect(a.work).toEqual({ real: 0, dummy: 1 });
      expect(b.work).toEqual({ real: 1, dummy: 0 });
    }
    const right = await attempt(email, STRONG_PASSWORD);
    expect(right.res.body).toContain('/confirm"'); // signed in: the consent page comes next
    expect(right.work).toEqual({ real: 1, dummy: 0 });
  });

  it('keeps the typed email when the password is wrong', async () => {
    const agent = new Agent(srv.url);
    const page = await loginPage(agent);
    const res = await agent.submit(page, { email: 'someone@example.test', password: 'nope nope nope' }, '/login');
    expect(res.body).toContain('value="someone@example.test"');
  });

  it('csrf.login-without-token: a sign-in POST without the form token is refused', async () => {
    const { email, password } = await createUser(srv);
    const agent = new Agent(srv.url);
    const page = await loginPage(agent);
    const form = findForm(page.body, '/login');
    const res = await agent.go(form.action, { method: 'POST', form: { email, password } });
    expect(res.status).toBe(403);
    const forged = await agent.go(form.action, { method: 'POST', form: { email, password, _csrf: 'forged-token' } });
    expect(forged.status).toBe(403);
  });

  it('csrf.token-from-another-browser: a token only works with its own cookie', async () => {
    const { email, password } = await createUser(srv);
    const attacker = new Agent(srv.url);
    const attackerPage = await loginPage(attacker);
    const victim = new Agent(srv.url);
    const page = await loginPage(victim);
    const form = findForm(page.body, '/login');
    const res = await victim.go(form.action, {
      method: 'POST',
      form: { email, password, _csrf: findForm(attackerPage.body, '/login').hidden._csrf! },
    });
    expect(res.status).toBe(403);
  });

  it("csrf.cookie-tossing-refused: an attacker's own cookie and token, planted in a signed-in browser, are refused", async () => {
    const victimUser = await createUser(srv, { givenName: 'Victoria' });
    const victim = new Agent(srv.url);
    const profile = await signInToAccount(srv, victim, victimUser.email, victimUser.password, '/account/profile');
    // The attacker mints pairs in their own browser: signed out, and signed in to their own account.
    const signedOut = new Agent(srv.url);
    const signedOutToken = findForm((await signedOut.go('/signup')).body, '/signup').hidden._csrf!;
    const attackerUser = await createUser(srv);
    const signedIn = new Agent(srv.url);
    const attackerProfile = await signInToAccount(
      srv,
      signedIn,
      attackerUser.email,
      attackerUser.password,
      '/account/profile',
    );
    const signedInToken = findForm(attackerProfile.body, '/account/profile"').hidden._csrf!;
    const victimCookie = victim.cookies.get('sesame.csrf')!;
    for (const [attacker, token] of [
      [signedOut, signedOutToken],
      [signedIn, signedInToken],
    ] as const) {
      // Cookie tossing (a sibling subdomain, or plain HTTP on the same host): the victim's browser now
      // sends the attacker's CSRF cookie with the victim's own session cookie.
      victim.cookies.set('sesame.csrf', attacker.cookies.get('sesame.csrf')!);
      const forged = await victim.go('/account/profile', {
        method: 'POST',
        form: { _csrf: token, given_name: 'Mallory', family_name: 'Owned', locale: 'en', zoneinfo: 'UTC' },
      });
      expect(forged.status).toBe(403);
    }
    expect((await srv.deps.repos.accounts.findById(victimUser.account.id))!.givenName).toBe('Victoria');
    // The victim's own cookie and token still work.
    victim.cookies.set('sesame.csrf', victimCookie);
    const own = await victim.submit(
      profile,
      { given_name: 'Vicky', family_name: 'Lovelace', locale: 'en', zoneinfo: 'UTC' },
      '/account/profile"',
    );
    expect(own.url).toContain('done=profile');
    expect((await srv.deps.repos.accounts.findById(victimUser.account.id))!.givenName).toBe('Vicky');
  });

  it("speaks the RP's ui_locales, then Accept-Language", async () => {
    const fr = await loginPage(new Agent(srv.url), { ui_locales: 'fr-CH en' });
    expect(fr.body).toContain('<html lang="fr">');
    expect(fr.body).toContain('Se connecter');
    const de = await loginPage(new Agent(srv.url, { 'accept-language': 'de-CH,de;q=0.9,en;q=0.5' }));
    expect(de.body).toContain('Anmelden');
    const it_ = await loginPage(new Agent(srv.url, { 'accept-language': 'xx, it;q=0.8' }));
    expect(it_.body).toContain('Accedi');
    const es = await loginPage(new Agent(srv.url, { 'accept-language': 'es' }), { ui_locales: 'es' });
    expect(es.body).toContain('Iniciar sesión');
  });

  it('sign-up sends a single-use verification link; the email is released only after it', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'fr' });
    const email = uniqueEmail('new');
    const form = await agent.go('/signup');
    const done = await agent.submit(form, {
      given_name: 'Grace',
      family_name: 'Hopper',
      email,
      password: STRONG_PASSWORD,
    });
    expect(done.status).toBe(200);
    expect(done.body).toContain('id="check-email"');
    const mail = srv.outbox().filter((m) => m.to === email);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toBe('Confirmez votre adresse e-mail');
    expect(mail[0]!.html).toContain('<a href=');
    const link = mail[0]!.text.match(/http\S+verify-email\S+/)![0];
    const account = await srv.deps.repos.accounts.findByEmail(email);
    expect(account?.emailVerified).toBe(false);
    expect(account?.locale).toBe('fr');

    // GET only shows the form (mail scanners must not consume the link); confirming asks for the
    // password chosen at sign-up, and a wrong one leaves the link usable.
    const confirm = await agent.go(link);
    expect((await srv.deps.repos.accounts.findByEmail(email))?.emailVerified).toBe(false);
    expect((await agent.submit(confirm, { password: 'not the password at all' })).status).toBe(401);
    const verified = await agent.submit(confirm, { password: STRONG_PASSWORD });
    expect(verified.status).toBe(200);
    expect(verified.body).toContain('id="verified"');
    expect((await srv.deps.repos.accounts.findByEmail(email))?.emailVerified).toBe(true);

    // verify-link.single-use
    expect((await agent.go(link)).status).toBe(400);
    expect((await agent.submit(confirm, { password: STRONG_PASSWORD })).status).toBe(400);
  });

  it('signup.no-enumeration: signing up with a taken email answers the same and mails the owner', async () => {
    const { email } = await createUser(srv);
    const agent = new Agent(srv.url);
    const res = await agent.submit(await agent.go('/signup'), {
      given_name: 'Eve',
      family_name: 'Mallory',
      email,
      password: STRONG_PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('id="check-email"');
    const mail = srv.outbox().filter((m) => m.to === email);
    expect(mail.map((m) => m.kind)).toEqual(['signup_existing']);
  });

  it('sign-up refuses short and common passwords and keeps what was typed', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'de' });
    const page = await agent.go('/signup');
    const short = await agent.submit(page, {
      given_name: 'Max',
      family_name: 'Muster',
      email: 'max@example.test',
      password: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body).toContain('mindestens 10 Zeichen');
    expect(short.body).toContain('value="max@example.test"');
    expect(short.body).toContain('value="Muster"');
    const common = await agent.submit(page, {
      given_name: 'Max',
      family_name: 'Muster',
      email: 'max@example.test',
      password: 'password123',
    });
    expect(common.status).toBe(400);
    expect(common.body).toContain('zu verbreitet');
    expect(await srv.deps.repos.accounts.findByEmail('max@example.test')).toBeUndefined();
  });

  it('bad input gets a 4xx with a clear message, never a 500', async () => {
    const agent = new Agent(srv.url);
    const page = await agent.go('/signup');
    const { hidden } = findForm(page.body);
    const huge = await agent.go('/signup', {
      method: 'POST',
      form: { ...hidden, given_name: 'x'.repeat(5000), family_name: '', email: 'not-an-email', password: 'x' },
    });
    expect(huge.status).toBe(400);
    const arrays = await fetch(`${srv.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: agent.cookieHeader() },
      body: `_csrf=${hidden._csrf}&email[]=a&email[]=b&password[x]=1`,
    });
    expect(arrays.status).toBe(400);
    // JSON to a form endpoint: not parsed at all, so no form token either — a 403 with its stable code.
    const json = await fetch(`${srv.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', cookie: agent.cookieHeader() },
      body: `{"_csrf":"${hidden._csrf}","broken`,
    });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'csrf_failed' });
    const notFound = await fetch(`${srv.url}/nope`, { headers: { accept: 'application/json' } });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: 'not_found' });
    const interaction = await agent.go('/interaction/does-not-exist');
    expect(interaction.status).toBe(400);
    expect(interaction.body).toContain('Please start again');
  });

  it('broken JSON to the device API is a 400 invalid_input in JSON, with no parser message or stack trace', async () => {
    // Both kAuth endpoints that parse a JSON body, called as the device client calls them.
    const post = (path: string, body: string) =>
      fetch(`${srv.url}/1/devices${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
      });
    const token = 'A'.repeat(43);
    const challenge = 'abcdef0123456789abcdef0123456789';
    for (const [path, broken, wellFormed, otherwise] of [
      [
        `/enrol/${token}`,
        '{"request": "',
        JSON.stringify({ request: 'x'.repeat(40) }),
        { status: 400, error: 'enrolment_invalid' },
      ],
      [
        `/challenges/${challenge}`,
        '{"decision":',
        JSON.stringify({ decision: 'approve', number: 12 }),
        { status: 401, error: 'device_auth_required' },
      ],
    ] as const) {
      const res = await post(path, broken);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        error: 'invalid_input',
        message: 'Some fields are missing or invalid. Please check them and try again.',
      });
      expect(text).not.toMatch(/SyntaxError|Unexpected|JSON at position|\bat \S+ \(|node_modules|\.ts:\d+/);
      // The same request, well formed, gets past the parser to its own refusal: the 400 above was the parser's.
      const next = await post(path, wellFormed);
      expect({ status: next.status, error: ((await next.json()) as { error: string }).error }).toEqual(otherwise);
    }
  });
});

describe('rate limits', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: '3', RATE_LIMIT_LOGIN_PER_IP: '1000' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('login.brute-force-throttled: password guesses against one account are limited', async () => {
    const { email, password } = await createUser(srv);
    const web = await createClient(srv, { type: 'web' });
    const agent = new Agent(srv.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const page = await agent.go(
        `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
      );
      statuses.push((await agent.submit(page, { email, password: `guess number ${i}` }, '/login')).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Even the right password is refused while throttled.
    const page = await agent.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
    );
    const res = await agent.submit(page, { email, password }, '/login');
    expect(res.status).toBe(429);
    expect(res.body).toContain('Too many attempts');
  });

  it('login.owner-not-throttled: right passwords do not use up the per-account limit', async () => {
    const { email, password } = await createUser(srv);
    const web = await createClient(srv, { type: 'web' });
    for (let i = 0; i < 5; i++) {
      const { code } = await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password,
      });
      expect(code).toBeTruthy();
    }
  });
});
