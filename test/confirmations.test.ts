// Sensitive changes on the Security page, with no recent sign-in (REAUTH_WINDOW_SECONDS=0): the
// change the user made is applied once the password is confirmed, and replacing backup codes is
// confirmed on a page of its own, whose result is shown once — on every storage mode this run has.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createUser, type TestServer } from './helpers/server.ts';
import { Agent, type Page } from './helpers/agent.ts';
import { signInToAccount, enrolTotp } from './helpers/mfa.ts';

const codesIn = (page: Page) => [...page.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);

describe.each(storageModes())('confirming sensitive changes (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode, env: { REAUTH_WINDOW_SECONDS: '0' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  /** The five minutes of sudo mode pass: the entry login/reauth.ts keeps for this session is gone. */
  const sudoEnds = (agent: Agent) => srv.deps.store.del(`sudo:${agent.cookies.get('sesame.session')}`);

  async function signedIn() {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    return { ...user, agent };
  }
  /** Confirms the password if the enrolment page asks first, then enrols an authenticator app. */
  async function withTotp(user: Awaited<ReturnType<typeof signedIn>>) {
    const ask = await user.agent.go('/account/security/totp/new');
    if (ask.url.includes('/confirm-password'))
      await user.agent.submit(ask, { password: user.password }, '/confirm-password"');
    return enrolTotp(user.agent);
  }

  it('reauth.pending-change-applied-after-password: protection settings, new backup codes and a removal are applied once the password is confirmed', async () => {
    const user = await signedIn();
    const { agent } = user;

    // Protection settings: the confirmation page keeps the change; a wrong password keeps it too.
    const ask = await agent.submit(
      await agent.go('/account/security'),
      { lockout_threshold: '7', alert_failed_password: 'yes' },
      '/protection"',
    );
    expect(ask.url).toMatch(/\/account\/security\/confirm-password\?return=%2Faccount%2Fsecurity&pending=[\w-]+$/);
    expect(ask.body).toContain('id="pending-change"');
    expect(ask.body).not.toContain('lockout_threshold');
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockoutThreshold).not.toBe(7);
    const wrong = await agent.submit(ask, { password: 'not my password' }, '/confirm-password"');
    expect(wrong.status).toBe(401);
    // Another browser of the same account cannot apply it with the id.
    const other = new Agent(srv.url);
    await signInToAccount(srv, other, user.email, user.password);
    const elsewhere = await other.submit(await other.go(ask.url), { password: user.password }, '/confirm-password"');
    expect(elsewhere.url).toBe(`${srv.url}/account/security?done=resubmit`);
    expect((await srv.deps.repos.accounts.findById(user.account.id))!.lockoutThreshold).not.toBe(7);

    const applied = await agent.submit(wrong, { password: user.password }, '/confirm-password"');
    expect(applied.url).toBe(`${srv.url}/account/security?done=protection`);
    expect(applied.body).toContain('Your protection settings were saved.');
    let account = (await srv.deps.repos.accounts.findById(user.account.id))!;
    expect(account.lockoutThreshold).toBe(7);
    expect(account.alertFailedPassword).toBe(true);
    expect(account.alertEverySignIn).toBe(false);
    // Applied once: confirming again (a reload of the confirmation) applies nothing more.
    await agent.submit(ask, { password: user.password }, '/confirm-password"');
    expect(await srv.deps.repos.activity.count(user.account.id, { types: ['protection_changed'] })).toBe(1);

    // New backup codes, confirmed on their page while sudo mode was open, submitted after it ended.
    const first = await withTotp(user);
    await enrolTotp(agent, 'Tablet');
    const regenerate = await agent.go('/account/security/backup-codes/new');
    await sudoEnds(agent);
    const askCodes = await agent.submit(regenerate, { confirm: 'yes' }, '/backup-codes"');
    expect(askCodes.body).toContain('id="pending-change"');
    const codesPage = await agent.submit(askCodes, { password: user.password }, '/confirm-password"');
    expect(codesPage.url).toMatch(/\/account\/security\/backup-codes\?shown=/);
    const codes = codesIn(codesPage);
    expect(codes).toHaveLength(10);
    expect(codes.some((c) => first.backupCodes.includes(c))).toBe(false);
    const kinds = srv
      .outbox()
      .filter((m) => m.to === user.email)
      .map((m) => m.kind);
    expect(kinds.at(-1)).toBe('security_backup_codes_regenerated');

    // Removing a method (the route's own checks run again: the factor is still this account's).
    const overview = await agent.go('/account/security');
    const ids = [...overview.body.matchAll(/data-factor="([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    const remove = await agent.go(`/account/security/factors/${ids[0]}/remove`);
    await sudoEnds(agent);
    const askRemove = await agent.submit(remove, {}, '/remove"');
    expect(askRemove.url).toContain('/account/security/confirm-password');
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(2);
    const removed = await agent.submit(askRemove, { password: user.password }, '/confirm-password"');
    expect(removed.url).toBe(`${srv.url}/account/security?done=removed`);
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(1);
    account = (await srv.deps.repos.accounts.findById(user.account.id))!;
    expect(account.lockoutThreshold).toBe(7);
  });

  it('backup-codes.regenerate-needs-confirmation: new codes only from their confirmation page, shown once', async () => {
    const user = await signedIn();
    const { agent } = user;
    const enrolment = await withTotp(user);
    expect(enrolment.backupCodes).toHaveLength(10);
    // The enrolment result was a redirect to a page that shows the codes once.
    expect(enrolment.page.url).toMatch(/\/account\/security\/backup-codes\?shown=/);
    const enrolReload = await agent.go(enrolment.page.url);
    expect(codesIn(enrolReload)).toHaveLength(0);
    expect(enrolReload.body).toContain('id="codes-spent"');

    const overview = await agent.go('/account/security');
    expect(overview.body).not.toMatch(/<form[^>]*action="\/account\/security\/backup-codes"/);
    expect(overview.body).toContain('href="/account/security/backup-codes/new"');
    const mails = () =>
      srv.outbox().filter((m) => m.to === user.email && m.kind === 'security_backup_codes_regenerated');

    // One click (the form the Security page used to have) replaces nothing.
    const csrf = overview.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const oneClick = await agent.go('/account/security/backup-codes', { method: 'POST', form: { _csrf: csrf } });
    expect(oneClick.status).toBe(400);
    expect(oneClick.body).toContain('Confirm this change on the page that asks for it.');
    expect(mails()).toHaveLength(0);

    const confirm = await agent.go('/account/security/backup-codes/new');
    expect(confirm.body).toContain('10 of 10 backup codes left.');
    expect(confirm.body).toContain('id="regenerate-warning"');
    const shown = await agent.submit(confirm, { confirm: 'yes' }, '/backup-codes"');
    const codes = codesIn(shown);
    expect(codes).toHaveLength(10);
    expect(codes.some((c) => enrolment.backupCodes.includes(c))).toBe(false);
    expect(mails()).toHaveLength(1);
    // A reload shows them no more and makes none.
    const reload = await agent.go(shown.url);
    expect(codesIn(reload)).toHaveLength(0);
    expect(reload.body).toContain('These backup codes were shown once');
    expect(mails()).toHaveLength(1);
  });
});
