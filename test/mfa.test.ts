// Two-step sign-in with an authenticator app and backup codes, through HTTP against the real
// server: enrolment on the Security page, the second-factor page, amr/acr in the ID token, and the
// attacks it must stop — on every storage mode this run has.
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
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import {
  signInToAccount,
  signedInUser,
  enrolTotp,
  totpCode,
  redeem,
  awayFromStepBoundary,
  passwordStep as passwordStepFor,
} from './helpers/mfa.ts';

/** The consent page comes after a completed sign-in for a third-party site: allow it. */
async function throughConsent(agent: Agent, page: Page): Promise<Page> {
  return page.url.startsWith(agent.origin) && page.body.includes('/confirm"')
    ? agent.submit(page, {}, '/confirm"')
    : page;
}

const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];

describe.each(storageModes())('second factors (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  /** A user with an authenticator app enrolled through the Security page. */
  async function userWithTotp() {
    const user = await signedInUser(srv);
    return { ...user, ...(await enrolTotp(user.agent)) };
  }
  const passwordStep = (email: string, password: string, extra: Record<string, string> = {}) =>
    passwordStepFor(srv, web, email, password, { extra });

  it('enrolment shows a QR code and 10 backup codes once, stores the seed encrypted and the codes hashed, and emails the user', async () => {
    const { account, secret, page, backupCodes, email } = await userWithTotp();
    expect(page.status).toBe(200);
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    expect(page.body).toMatch(/<a[^>]*download="sesame-backup-codes.txt"[^>]*href="data:text\/plain/);
    const rows = await srv.deps.database.db.execute(
      sql`SELECT type, secret FROM second_factors WHERE account_id = ${account.id}`,
    );
    const row = (rows as unknown as { rows: { type: string; secret: string }[] }).rows[0]!;
    expect(row.type).toBe('totp');
    expect(row.secret).not.toContain(secret);
    expect(row.secret.startsWith('v1.')).toBe(true);
    const codes = await srv.deps.database.db.execute(
      sql`SELECT code_hash FROM backup_codes WHERE account_id = ${account.id}`,
    );
    const hashes = (codes as unknown as { rows: { code_hash: string }[] }).rows.map((r) => r.code_hash);
    expect(hashes).toHaveLength(10);
    for (const c of backupCodes)
      expect(hashes.some((h) => h.includes(c) || h.includes(c.replace('-', '')))).toBe(false);
    const mail = srv
      .outbox()
      .filter((m) => m.to === email)
      .at(-1)!;
    expect(mail.kind).toBe('security_mfa_enabled');
    expect(mail.text).toContain('authenticator app “My phone”');
  });

  it('sign-in asks for the code after the password; the ID token has amr pwd+otp and the multi-factor acr', async () => {
    const user = await userWithTotp();
    const { agent, page } = await passwordStep(user.email, user.password);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<input[^>]*name="code"/);
    expect(page.body).toContain('data-method="backup_code"'); // "use another method"
    const done = await throughConsent(
      agent,
      await agent.submit(page, { code: totpCode(user.secret, 0) }, '/second-factor"'),
    );
    expect(done.url).toMatch(/^https:\/\/rp\.example\//);
    const { claims } = await redeem(srv, web, new URL(done.url).searchParams.get('code')!);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    expect(claims.acr).toBe('urn:sesame:loa:2');
    const overview = await user.agent.go('/account/security');
    expect(overview.body).not.toMatch(/data-type="totp"[\s\S]*?<td class="hint">Never<\/td>/); // last use is shown
  });

  it('a password-only account gets amr pwd and the password-only acr', async () => {
    const user = await createUser(srv);
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const { claims } = await redeem(srv, web, code!);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('urn:sesame:loa:1');
  });

  it('totp.replay: a code that was accepted once is refused afterwards, with the generic message', async () => {
    const user = await userWithTotp();
    await awayFromStepBoundary();
    const code = totpCode(user.secret, 0);
    const first = await passwordStep(user.email, user.password);
    const ok = await throughConsent(first.agent, await first.agent.submit(first.page, { code }, '/second-factor"'));
    expect(ok.url).toMatch(/^https:\/\/rp\.example\//);
    const second = await passwordStep(user.email, user.password);
    const replay = await second.agent.submit(second.page, { code }, '/second-factor"');
    expect(replay.status).toBe(401);
    const wrong = await second.agent.submit(
      replay,
      { code: code === '000000' ? '111111' : '000000' },
      '/second-factor"',
    );
    expect(alert(replay)).toBe(alert(wrong));
    expect(alert(replay)).toBe('Verification failed. Check the code or your key and try again.');
    // The enrolment's own code (one step ago) is spent too.
    const old = await second.agent.submit(wrong, { code: totpCode(user.secret, -1) }, '/second-factor"');
    expect(old.status).toBe(401);
    // Parallel submissions of one fresh code: exactly one wins.
    const next = totpCode(user.secret, 1);
    const a = await passwordStep(user.email, user.password);
    const b = await passwordStep(user.email, user.password);
    const results = await Promise.all([
      a.agent.submit(a.page, { code: next }, '/second-factor"'),
      b.agent.submit(b.page, { code: next }, '/second-factor"'),
    ]);
    expect(results.filter((r) => r.body.includes('/confirm"')).length).toBe(1);
    expect(results.filter((r) => r.status === 401).length).toBe(1);
  });

  it('backup-code.double-spend: two parallel uses of one backup code, exactly one succeeds; the count goes down', async () => {
    const user = await userWithTotp();
    const code = user.backupCodes[0]!;
    const logins = await Promise.all([1, 2, 3].map(() => passwordStep(user.email, user.password)));
    const switched = await Promise.all(
      logins.map(async (l) => ({ ...l, page: await l.agent.go(`/interaction/${l.uid}?method=backup_code`) })),
    );
    for (const s of switched) expect(s.page.body).toContain('value="backup_code"');
    const results = await Promise.all(
      switched.map((s) => s.agent.submit(s.page, { code: code.toUpperCase() }, '/second-factor"')),
    );
    const wins = results
      .map((r, i) => ({ r, agent: switched[i]!.agent }))
      .filter(({ r }) => r.body.includes('/confirm"'));
    expect(wins).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(2);
    const done = await throughConsent(wins[0]!.agent, wins[0]!.r);
    const { claims } = await redeem(srv, web, new URL(done.url).searchParams.get('code')!);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    const overview = await user.agent.go('/account/security');
    expect(overview.body).toContain('9 of 10 backup codes left.');
  });

  it('regenerating backup codes invalidates the old set', async () => {
    const user = await userWithTotp();
    const regenerated = await user.agent.submit(
      await user.agent.go('/account/security/backup-codes/new'),
      { confirm: 'yes' },
      '/account/security/backup-codes"',
    );
    const fresh = [...regenerated.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(fresh).toHaveLength(10);
    expect(
      srv
        .outbox()
        .filter((m) => m.to === user.email)
        .at(-1)!.kind,
    ).toBe('security_backup_codes_regenerated');
    const l1 = await passwordStep(user.email, user.password);
    const oldTry = await l1.agent.submit(
      await l1.agent.go(`/interaction/${l1.uid}?method=backup_code`),
      { code: user.backupCodes[1]! },
      '/second-factor"',
    );
    expect(oldTry.status).toBe(401);
    const newTry = await throughConsent(
      l1.agent,
      await l1.agent.submit(oldTry, { code: fresh[0]! }, '/second-factor"'),
    );
    expect(newTry.url).toMatch(/^https:\/\/rp\.example\//);
  });

  it('mfa.bypass-by-skipping-step: after the password, no other route finishes the sign-in', async () => {
    const user = await userWithTotp();
    const { agent, page, uid } = await passwordStep(user.email, user.password);
    expect(page.body).toContain('/second-factor"');
    const csrfToken = findForm(page.body, '/second-factor"').hidden._csrf!;
    // 1. A method the account does not have, and an empty answer.
    const sms = await agent.go(`/interaction/${uid}/second-factor`, {
      method: 'POST',
      form: { _csrf: csrfToken, method: 'sms', code: '123456' },
    });
    expect(sms.url.startsWith(srv.url)).toBe(true);
    expect([400, 401]).toContain(sms.status);
    const empty = await agent.go(`/interaction/${uid}/second-factor`, {
      method: 'POST',
      form: { _csrf: csrfToken, method: 'totp' },
    });
    expect(empty.status).toBe(401);
    // 2. Straight to consent.
    const consent = await agent.go(`/interaction/${uid}/confirm`, { method: 'POST', form: { _csrf: csrfToken } });
    expect(consent.status).toBe(400);
    // 3. Another browser cannot use this login's second step, even with the right code.
    const other = new Agent(srv.url);
    await other.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid', state: 'y' })}`,
    );
    const foreign = await other.go(`/interaction/${uid}/second-factor`, {
      method: 'POST',
      form: { _csrf: csrfToken, method: 'totp', code: totpCode(user.secret, 0) },
    });
    expect(foreign.url.startsWith(srv.url)).toBe(true);
    expect([400, 403]).toContain(foreign.status);
    // 4. Straight back to the authorization endpoint (oidc-provider's resume URL).
    const resumed = await agent.go(`/authorize/${uid}`);
    expect(resumed.url.startsWith(srv.url)).toBe(true);
    expect(resumed.body).not.toContain('code=');
    // 5. The password step again: still the second-factor page, never the relying party.
    const again = await agent.submit(
      await agent.go(
        `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid', state: 'x' })}`,
      ),
      { email: user.email, password: user.password },
      '/login',
    );
    expect(again.url.startsWith(srv.url)).toBe(true);
    expect(again.body).toContain('/second-factor"');
    // 6. No session was created along the way: a prompt=none request gets login_required.
    const none = await agent.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid', prompt: 'none', state: 'z' })}`,
    );
    expect(new URL(none.url).searchParams.get('error')).toBe('login_required');
  });

  it('failures are counted per account and per kind (password, second factor); a completed sign-in resets them', async () => {
    const user = await userWithTotp();
    const id = user.account.id;
    const wrongPassword = await passwordStep(user.email, 'not the password at all');
    expect(wrongPassword.page.status).toBe(401);
    const { agent, page } = await passwordStep(user.email, user.password);
    await agent.submit(page, { code: '000000' }, '/second-factor"');
    const retry = await agent.submit(page, { code: 'abcdef' }, '/second-factor"');
    expect(retry.status).toBe(401);
    expect(await failureCount(srv, 'password', id)).toBe(1);
    expect(await failureCount(srv, 'second_factor', id)).toBe(2);
    await throughConsent(agent, await agent.submit(retry, { code: totpCode(user.secret, 0) }, '/second-factor"'));
    expect(await failureCount(srv, 'password', id)).toBe(0);
    expect(await failureCount(srv, 'second_factor', id)).toBe(0);
  });

  it('acr: a relying party that asks for multi-factor gets it, or an error — never less', async () => {
    const plain = await createUser(srv);
    const mfaOnly = { acr_values: 'urn:sesame:loa:2' };
    const refused = await passwordStep(plain.email, plain.password, mfaOnly);
    expect(refused.page.url).toMatch(/^https:\/\/rp\.example\//);
    expect(new URL(refused.page.url).searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(new URL(refused.page.url).searchParams.get('code')).toBeNull();

    // Step-up: a password-only session (2FA turned on afterwards) does not satisfy loa:2.
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    const first = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    expect((await redeem(srv, web, first.code!)).claims.acr).toBe('urn:sesame:loa:1');
    await agent.go('/account/security'); // same browser, same session (fresh sign-in)
    const { secret } = await enrolTotp(agent);
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 'u',
      ...mfaOnly,
    });
    const stepUp = await agent.go(`/authorize?${q}`);
    expect(stepUp.url.startsWith(srv.url)).toBe(true);
    const second = await agent.submit(stepUp, { email: user.email, password: user.password }, '/login');
    const done = await throughConsent(
      agent,
      await agent.submit(second, { code: totpCode(secret, 0) }, '/second-factor"'),
    );
    const { claims } = await redeem(srv, web, new URL(done.url).searchParams.get('code')!);
    expect(claims.acr).toBe('urn:sesame:loa:2');
    expect(claims.amr).toEqual(['pwd', 'otp']);
    // Now the session is multi-factor: the same request passes without prompting.
    const silent = await agent.go(`/authorize?${q}`);
    expect(silent.url).toMatch(/^https:\/\/rp\.example\/.*code=/);
  });
});

describe('security page', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ env: { REAUTH_WINDOW_SECONDS: '0' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('changes ask for the password again; every change is emailed; removing the last method warns and turns 2FA off', async () => {
    const user = await createUser(srv, { locale: 'fr' });
    const agent = new Agent(srv.url);
    const overview = await signInToAccount(srv, agent, user.email, user.password);
    expect(overview.body).toContain('data-enabled="no"');
    const ask = await agent.go('/account/security/totp/new');
    expect(ask.url).toBe(`${srv.url}/account/security/confirm-password?return=%2Faccount%2Fsecurity%2Ftotp%2Fnew`);
    const wrong = await agent.submit(ask, { password: 'not my password' }, '/confirm-password"');
    expect(wrong.status).toBe(401);
    expect(alert(wrong)).toBe('Mot de passe incorrect.');
    const ok = await agent.submit(wrong, { password: user.password }, '/confirm-password"');
    expect(ok.url).toBe(`${srv.url}/account/security/totp/new`);

    const { secret } = await enrolTotp(agent, 'Téléphone');
    const second = await enrolTotp(agent, 'Tablette');
    expect(second.backupCodes).toHaveLength(0); // only the first method brings backup codes
    let page = await agent.go('/account/security');
    expect(page.body).toContain('data-enabled="yes"');
    const ids = [...page.body.matchAll(/data-factor="([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);

    page = await agent.submit(page, {}, `/factors/${ids[1]}/default"`);
    expect(page.body).toContain('id="done"');
    const removeFirst = await agent.go(`/account/security/factors/${ids[0]}/remove`);
    expect(removeFirst.body).not.toContain('id="last-warning"');
    await agent.submit(removeFirst, {}, '/remove"');
    const removeLast = await agent.go(`/account/security/factors/${ids[1]}/remove`);
    expect(removeLast.body).toContain('id="last-warning"');
    const notConfirmed = await agent.submit(removeLast, {}, '/remove"');
    expect(notConfirmed.status).toBe(400);
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(1);
    const off = await agent.submit(removeLast, { confirm_disable: 'yes' }, '/remove"');
    expect(off.body).toContain('data-enabled="no"');
    expect(await srv.deps.repos.backupCodes.remaining(user.account.id)).toBe(0);

    const kinds = srv
      .outbox()
      .filter((m) => m.to === user.email)
      .map((m) => m.kind);
    expect(kinds).toEqual([
      'security_mfa_enabled',
      'security_factor_added',
      'security_default_changed',
      'security_factor_removed',
      'security_mfa_disabled',
    ]);
    const mail = srv.outbox().filter((m) => m.to === user.email)[0]!;
    expect(mail.subject).toBe('Les paramètres de sécurité de votre compte Sesame ont changé');
    expect(mail.text).toContain("application d'authentification « Téléphone »");

    // 2FA off again: the password alone signs in, and the old secret no longer matters.
    const web = await createClient(srv, { type: 'web' });
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    expect(code).toBeTruthy();
    // 2FA on again with a new authenticator: a code from the removed one's secret is refused, the new one's works.
    const renewed = await enrolTotp(agent, 'Nouveau téléphone');
    expect(renewed.secret).not.toBe(secret);
    const step = await passwordStepFor(srv, web, user.email, user.password);
    expect(step.page.body).toMatch(/<input[^>]*name="code"/);
    const oldCode = totpCode(secret, 0);
    expect(oldCode).not.toBe(totpCode(renewed.secret, 0));
    const refused = await step.agent.submit(step.page, { code: oldCode }, '/second-factor"');
    expect(refused.status).toBe(401);
    expect(alert(refused)).toBe('La vérification a échoué. Vérifiez le code ou votre clé et réessayez.');
    const done = await throughConsent(
      step.agent,
      await step.agent.submit(refused, { code: totpCode(renewed.secret, 0) }, '/second-factor"'),
    );
    expect((await redeem(srv, web, new URL(done.url).searchParams.get('code')!)).claims.amr).toEqual(['pwd', 'otp']);
  });

  it('csrf: security changes without the form token are refused', async () => {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const res = await agent.go('/account/security/backup-codes', { method: 'POST', form: {} });
    expect(res.status).toBe(403);
  });

  it('a wrong first code keeps the same key on the page and enrols nothing', async () => {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const confirm = await agent.go('/account/security/totp/new');
    const form = await agent.submit(confirm, { password: user.password }, '/confirm-password"');
    const key = form.body.match(/<code id="totp-secret">([^<]+)</)![1];
    const bad = await agent.submit(form, { name: 'Phone', code: '12' }, '/account/security/totp"');
    expect(bad.status).toBe(400);
    expect(bad.body.match(/<code id="totp-secret">([^<]+)</)![1]).toBe(key);
    expect(bad.body).toContain('value="Phone"');
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(0);
  });
});
