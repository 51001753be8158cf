// Sign-up and the first proof of an address, through HTTP: pre-account hijacking, passwords that
// contain the user's email, emails to unconfirmed addresses, and the name claims relying parties
// read without a fallback (accounts from sign-up and from `sesame user create`).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { sql } from 'drizzle-orm';
import { api, personalToken } from './helpers/api.ts';
import {
  startServer,
  storageModes,
  createUser,
  createClient,
  uniqueEmail,
  STRONG_PASSWORD,
  type TestServer,
  type StorageMode,
} from './helpers/server.ts';
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import { signInToAccount, signedInUser, redeem } from './helpers/mfa.ts';
import { runCli } from '../src/cli/main.ts';

const NEW_PASSWORD = 'my very own passphrase 2026';
const ATTACKER_PASSWORD = 'known only to the intruder 77';

describe.each(storageModes())('sign-up and the first proof of an address (%s storage)', (mode: StorageMode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const mails = (to: string) => srv.outbox().filter((m) => m.to === to);
  const linkIn = (to: string, what: 'verify-email' | 'reset-password') =>
    mails(to)
      .at(-1)!
      .text.match(new RegExp(`http\\S+${what}\\?token=[\\w-]+\\S*`))![0];

  async function signUp(agent: Agent, fields: Record<string, string>) {
    const page = await agent.submit(await agent.go('/signup'), fields, '/signup"');
    expect(page.body).toContain('id="check-email"');
    return page;
  }
  /** The page a relying party's sign-in ends on when it does not come back to the relying party. */
  async function rpSignIn(email: string, password: string, agent = new Agent(srv.url)) {
    try {
      const { code } = await authorize(agent, {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password,
      });
      return { code, page: undefined as Page | undefined };
    } catch (err) {
      const page = (err as { page?: Page }).page;
      if (!page) throw err;
      return { code: null, page };
    }
  }
  async function resetPassword(address: string, password: string) {
    const browser = new Agent(srv.url);
    await browser.submit(await browser.go('/forgot-password'), { email: address }, '/forgot-password"');
    const form = await browser.go(linkIn(address, 'reset-password'));
    return browser.submit(form, { password, password_again: password }, '/reset-password"');
  }

  it('password.contains-email-refused: the whole address or its local part, any case, on every way a password is set', async () => {
    const email = `zoe@${crypto.randomBytes(4).toString('hex')}.example`;
    const containing = [`${email}1`, `${email.toUpperCase()} is mine`, 'ZOE rides 1815 bikes'];
    const refused = (page: Page) => {
      expect(page.status).toBe(400);
      expect(page.body).toContain('Your password must not contain your email address or your name');
    };

    // Sign-up.
    const signup = new Agent(srv.url);
    for (const password of containing) {
      const page = await signup.submit(
        await signup.go('/signup'),
        { given_name: 'Isabel', family_name: 'Quinn', email, password },
        '/signup"',
      );
      refused(page);
    }
    expect(await srv.deps.repos.accounts.findByEmail(email)).toBeUndefined();

    // Reset.
    const user = await createUser(srv, { email, givenName: 'Isabel', familyName: 'Quinn', name: 'Isabel Quinn' });
    for (const password of containing) refused(await resetPassword(email, password));

    // Change, and the compromised-password flow.
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, email, user.password, '/account/profile/password');
    for (const password of containing) {
      const form = await agent.go('/account/profile/password');
      const page = await agent.submit(
        form,
        { current_password: user.password, new_password: password, new_password_again: password },
        '/account/profile/password"',
      );
      refused(page);
      const compromised = await agent.submit(
        await agent.go('/account/compromised'),
        { new_password: password, new_password_again: password },
        '/account/compromised"',
      );
      refused(compromised);
    }
    expect((await rpSignIn(email, user.password)).code).toBeTruthy(); // the password never changed

    // The command line.
    for (const password of containing) {
      let stderr = '';
      const code = await runCli(
        [
          'user',
          'create',
          '--email',
          email,
          '--password',
          password,
          '--given-name',
          'Isabel',
          '--family-name',
          'Quinn',
        ],
        { env: { ...process.env, DATA_DIR: srv.dataDir }, stdout: () => {}, stderr: (s) => (stderr += s) },
      );
      expect(code).toBe(2);
      expect(stderr).toContain('--password contains the email or a name');
    }
  });

  it('signup.prehijack-recovery-email: an unconfirmed account sets nothing; the owner’s reset wipes what an older one had and locks the squatter out', async () => {
    const victim = uniqueEmail('victim');
    const attacker = new Agent(srv.url);
    await signUp(attacker, { given_name: 'Eve', family_name: 'Mallory', email: victim, password: ATTACKER_PASSWORD });
    const squat = (await srv.deps.repos.accounts.findByEmail(victim))!;
    expect(squat.emailVerified).toBe(false);

    // The right password does not finish any sign-in: no code for a relying party…
    const rp = await rpSignIn(victim, ATTACKER_PASSWORD, attacker);
    expect(rp.code).toBeNull();
    expect(rp.page!.status).toBe(403);
    expect(rp.page!.body).toContain('id="verify-first"');
    // …and no session for the account pages, so no recovery email, second factor or application.
    const account = await attacker.go('/account/profile');
    const login = await attacker.submit(account, { email: victim, password: ATTACKER_PASSWORD }, '/login');
    expect(login.status).toBe(403);
    expect(login.body).toContain('id="verify-first"');
    const { _csrf } = findForm(login.body).hidden;
    const attempts = {
      '/account/profile/recovery-email': { recovery_email: 'eve@evil.example', password: ATTACKER_PASSWORD },
      '/account/profile/recovery-phone': { country: 'CH', phone: '+41 79 555 00 11', password: ATTACKER_PASSWORD },
      '/account/applications': { name: 'Eve', type: 'web', redirect_uris: 'https://evil.example/cb' },
    };
    for (const [to, fields] of Object.entries(attempts)) {
      const res = await attacker.request(to, { form: { _csrf: _csrf!, ...fields } });
      expect(res.status, to).toBe(302); // sent to sign in, which it cannot finish
    }
    expect((await attacker.go('/account/security/totp/new')).body).not.toContain('totp-secret');
    const untouched = (await srv.deps.repos.accounts.findByEmail(victim))!;
    expect([untouched.recoveryEmail, untouched.recoveryPhoneHash]).toEqual([null, null]);
    expect(await srv.deps.repos.applications.listByOwner(squat.id)).toHaveLength(0);

    // An account squatted before this rule may have all of that already: a session and tokens at a
    // relying party, a recovery email and phone, a second factor, backup codes, an application.
    const setVerified = (v: boolean) =>
      srv.deps.database.db.execute(sql`UPDATE accounts SET email_verified = ${v} WHERE id = ${squat.id}`);
    await setVerified(true);
    const old = await redeem(srv, web, (await rpSignIn(victim, ATTACKER_PASSWORD, attacker)).code!);
    await setVerified(false);
    const squatter = 'eve@evil.example';
    await srv.deps.repos.accounts.update(squat.id, {
      recoveryEmail: squatter,
      recoveryPhoneHash: 'h',
      lockoutThreshold: 50,
      alertEverySignIn: false,
    });
    const trustedBrowsers = async () =>
      (
        (await srv.deps.database.db.execute(
          sql`SELECT count(*)::int AS n FROM trusted_devices WHERE account_id = ${squat.id}`,
        )) as unknown as { rows: { n: number }[] }
      ).rows[0]!.n;
    expect(await trustedBrowsers()).toBeGreaterThan(0); // the squatter's browser signed in before
    await srv.deps.repos.secondFactors.create({ accountId: squat.id, type: 'totp', name: 'Eve', secret: 'v1.x.y.z' });
    await srv.deps.repos.backupCodes.replace(squat.id, ['code-hash']);
    const { app } = await srv.deps.applications.create(squat.id, {
      name: 'Eve',
      type: 'web',
      redirectUris: ['https://evil.example/cb'],
      postLogoutRedirectUris: [],
      backchannelLogoutUri: null,
    });
    // An API token planted in the row (none can be made while unconfirmed; an older rule might have).
    const planted = await personalToken(srv, squat, ['profile:read']);
    // A reset link sent to the squatter's recovery address does not open on an unconfirmed account.
    await attacker.submit(await attacker.go('/forgot-password'), { email: squatter }, '/forgot-password"');
    const squatterLink = linkIn(squatter, 'reset-password');
    expect((await attacker.go(squatterLink)).status).toBe(400);

    // The owner proves the address with a reset link sent to it.
    const done = await resetPassword(victim, NEW_PASSWORD);
    expect(done.body).toContain('id="password-reset-done"');
    const owned = (await srv.deps.repos.accounts.findByEmail(victim))!;
    expect(owned).toMatchObject({
      emailVerified: true,
      recoveryEmail: null,
      recoveryPhone: null,
      recoveryPhoneHash: null,
      lockoutThreshold: 10,
    });
    // No browser of the squatter keeps a lockout budget of its own on the owner's account.
    expect(await trustedBrowsers()).toBe(0);
    expect(await srv.deps.repos.secondFactors.count(owned.id)).toBe(0);
    expect(await srv.deps.repos.backupCodes.hasSet(owned.id)).toBe(false);
    expect(await srv.deps.repos.applications.listByOwner(owned.id)).toHaveLength(0);
    expect(await srv.deps.repos.applications.findByClientId(app.clientId)).toBeUndefined();

    // The squatter is out: their session, tokens, password, recovery address and old link are dead.
    expect((await rpSignIn(victim, 'no password typed', attacker)).code).toBeNull(); // no silent sign-in
    const refresh = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: (old as typeof old & { refresh_token: string }).refresh_token,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      }),
    });
    expect(refresh.status).toBe(400);
    const userinfo = await fetch(`${srv.url}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${old.access_token}` },
    });
    expect(userinfo.status).toBe(401);
    expect((await api(srv, 'GET', '/1/profile', { token: planted })).status).toBe(401);
    expect(
      await srv.deps.database.db.execute(sql`SELECT 1 FROM api_tokens WHERE account_id = ${owned.id}`),
    ).toMatchObject({ rows: [] });
    expect((await rpSignIn(victim, ATTACKER_PASSWORD)).code).toBeNull();
    expect((await attacker.go(squatterLink)).status).toBe(400);
    const before = mails(squatter).length;
    await attacker.submit(await attacker.go('/forgot-password'), { email: squatter }, '/forgot-password"');
    expect(mails(squatter)).toHaveLength(before);
    // The owner signs in, and relying parties get the verified address.
    const { code } = await rpSignIn(victim, NEW_PASSWORD);
    const { claims } = await redeem(srv, web, code!);
    expect(claims).toMatchObject({ email: victim, email_verified: true });
  });

  it('signup.prehijack-confirm-link: pressing Confirm in an email someone else triggered gives their password nothing', async () => {
    const victim = uniqueEmail('victim');
    const attacker = new Agent(srv.url);
    await signUp(attacker, { given_name: 'Eve', family_name: 'Mallory', email: victim, password: ATTACKER_PASSWORD });

    // The owner opens the link: confirming asks for the password chosen at sign-up, which they do
    // not know; the page tells them how to take the address over instead.
    const owner = new Agent(srv.url);
    const confirm = await owner.go(linkIn(victim, 'verify-email'));
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('name="password"');
    expect(confirm.body).toMatch(/id="not-you"[\s\S]*href="\/forgot-password"/);
    const pressed = await owner.submit(confirm, {}, '/verify-email"');
    expect(pressed.status).toBe(400);
    expect(pressed.body).toContain('aria-invalid="true"');
    const guessed = await owner.submit(confirm, { password: 'a guess at the password' }, '/verify-email"');
    expect(guessed.status).toBe(401);
    expect(guessed.body).toContain('Wrong password.');
    expect((await srv.deps.repos.accounts.findByEmail(victim))!.emailVerified).toBe(false);

    // The attacker's password still gets no ID token, verified or not; "send the link again" mails
    // only the address.
    const rp = await rpSignIn(victim, ATTACKER_PASSWORD, attacker);
    expect(rp.code).toBeNull();
    const before = mails(victim).length;
    const resent = await attacker.submit(rp.page!, {}, '/verify-email"');
    expect(resent.body).toContain('id="sent"');
    expect(mails(victim)).toHaveLength(before + 1);
    expect(mails(victim).at(-1)!.kind).toBe('verify_email');

    // Whoever signed up and holds the link confirms with their password, and then signs in.
    const own = uniqueEmail('own');
    const me = new Agent(srv.url);
    await signUp(me, { given_name: 'Ada', family_name: 'Lovelace', email: own, password: STRONG_PASSWORD });
    const mine = await me.go(linkIn(own, 'verify-email'));
    const verified = await me.submit(mine, { password: STRONG_PASSWORD }, '/verify-email"');
    expect(verified.body).toContain('id="verified"');
    expect((await me.submit(mine, { password: STRONG_PASSWORD }, '/verify-email"')).status).toBe(400); // single-use
    const { code } = await rpSignIn(own, STRONG_PASSWORD);
    expect((await redeem(srv, web, code!)).claims).toMatchObject({ email: own, email_verified: true });
  });

  it('email.unconfirmed-address-no-user-text: the verification and email-change links carry nothing anyone typed', async () => {
    const bait = { given_name: 'Win a prize at https://evil.example/claim', family_name: 'Call +41 79 000 00 00' };
    const to = uniqueEmail('target');
    await signUp(new Agent(srv.url), { ...bait, email: to, password: STRONG_PASSWORD });
    const user = await signedInUser(srv, {
      name: `${bait.given_name} ${bait.family_name}`,
      givenName: bait.given_name,
      familyName: bait.family_name,
    });
    const newAddress = uniqueEmail('new-address');
    const form = await user.agent.go('/account/profile/email');
    await user.agent.submit(
      form,
      { email: newAddress, email_again: newAddress, password: user.password },
      '/account/profile/email"',
    );
    const sent = [...mails(to), ...mails(newAddress)];
    expect(sent.map((m) => m.kind)).toEqual(['verify_email', 'confirm_email_change']);
    for (const m of sent)
      for (const part of [m.subject, m.text, m.html]) {
        expect(part).not.toContain('evil.example');
        expect(part).not.toContain('prize');
        expect(part).not.toContain('+41 79');
      }
  });

  it('signup.prehijack-old-session: a session an unconfirmed account got before this rule no longer signs in anywhere', async () => {
    // An account whose session and tokens were issued while unconfirmed accounts could still sign in.
    const squatter = await createUser(srv);
    const agent = new Agent(srv.url);
    const first = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: squatter.email,
      password: squatter.password,
    });
    const tokens = await redeem(srv, web, first.code!);
    await srv.deps.database.db.execute(
      sql`UPDATE accounts SET email_verified = false WHERE id = ${squatter.account.id}`,
    );
    // The session cookie no longer skips the sign-in: a silent request is refused…
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid email',
      prompt: 'none',
    });
    const silent = await agent.go(`/authorize?${q}`);
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');
    // …and the access token it had says nothing about the account.
    const userinfo = await fetch(`${srv.url}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.status).toBe(401);
  });

  it('signup.sign-in-link: the sign-up page says "Already have an account?" and keeps the way back to the sign-in', async () => {
    const plain = await new Agent(srv.url).go('/signup');
    expect(plain.body).toMatch(/id="have-account">Already have an account\? <a href="\/account">Sign in<\/a>/);
    const fromLogin = await new Agent(srv.url, { 'accept-language': 'de' }).go('/signup?return=/interaction/abc');
    expect(fromLogin.body).toMatch(
      /id="have-account">Sie haben bereits ein Konto\? <a href="\/interaction\/abc">Anmelden<\/a>/,
    );
  });

  it('claims.names-always-present: name, given_name and family_name for accounts from the CLI and from before both names were required', async () => {
    const env = {
      ...process.env,
      DATA_DIR: srv.dataDir,
      KEYS_DIR: path.join(srv.dataDir, 'keys'),
      LOG_LEVEL: 'silent',
      ...(mode === 'embedded' ? { DATABASE_URL: undefined, REDIS_URL: undefined } : {}),
    };
    const sesame = async (...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['user', 'create', '--password', STRONG_PASSWORD, ...args], {
        env,
        stdout: (s) => (stdout += s),
        stderr: (s) => (stderr += s),
      });
      return { code, stdout, stderr };
    };
    // The embedded database belongs to one process at a time: the server steps aside meanwhile.
    const dataDir = srv.dataDir;
    if (mode === 'embedded') await srv.stop();
    const plato = uniqueEmail('plato');
    const oneWord = await sesame('--email', plato, '--name', 'Plato');
    expect(oneWord.code).toBe(2);
    expect(oneWord.stderr).toContain('needs a first and a last name');
    expect((await sesame('--email', plato, '--given-name', 'Plato', '--family-name', 'of Athens')).code).toBe(0);
    const ludwig = uniqueEmail('ludwig');
    const split = JSON.parse((await sesame('--email', ludwig, '--name', 'Ludwig van Beethoven')).stdout);
    expect(split).toMatchObject({ name: 'Ludwig van Beethoven', given_name: 'Ludwig', family_name: 'van Beethoven' });
    if (mode === 'embedded') srv = await startServer({ mode, dataDir });

    // An account from before both names were required.
    const older = uniqueEmail('older');
    await srv.deps.repos.accounts.create({
      email: older,
      passwordHash: await srv.deps.password.hash(STRONG_PASSWORD),
      name: 'Socrates',
      givenName: null,
      familyName: null,
      emailVerified: true,
    });
    const expected: Record<string, Record<string, string>> = {
      [plato]: { name: 'Plato of Athens', given_name: 'Plato', family_name: 'of Athens' },
      [ludwig]: { name: 'Ludwig van Beethoven', given_name: 'Ludwig', family_name: 'van Beethoven' },
      [older]: { name: 'Socrates', given_name: 'Socrates', family_name: '' },
    };
    for (const [email, names] of Object.entries(expected)) {
      const { code } = await rpSignIn(email, STRONG_PASSWORD);
      const tokens = await redeem(srv, web, code!);
      const idToken = decodeJwt(tokens.id_token);
      const userinfo = await (
        await fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      ).json();
      for (const claims of [idToken, userinfo]) expect(claims, email).toMatchObject(names);
    }
  });

  it('org.signup-personal-organization: sign-up makes the account and its personal organization, the account its legal representative; a taken address makes neither again', async () => {
    const email = uniqueEmail('founder');
    await signUp(new Agent(srv.url), { given_name: 'Marie', family_name: 'Curie', email, password: STRONG_PASSWORD });
    const account = (await srv.deps.repos.accounts.findByEmail(email))!;
    const orgs = await srv.deps.repos.organizations.listForAccount(account.id);
    expect(orgs.map((o) => [o.organization.name, o.organization.type, o.membership.role])).toEqual([
      ['Marie Curie', 'personal', 'legal_representative'],
    ]);
    expect((await srv.deps.repos.organizations.personalOf(account.id))?.id).toBe(orgs[0]!.organization.id);

    // Signing up again with the address changes nothing (and says nothing different).
    await signUp(new Agent(srv.url), { given_name: 'Eve', family_name: 'Other', email, password: ATTACKER_PASSWORD });
    expect(await srv.deps.repos.organizations.listForAccount(account.id)).toHaveLength(1);
    const named = await srv.deps.database.db.execute(
      sql`SELECT count(*)::int AS n FROM organizations WHERE name = 'Eve Other'`,
    );
    expect((named as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
  });
});
