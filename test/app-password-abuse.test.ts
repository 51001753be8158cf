// What protects the sync channel (issue 14 item 4 and 5), over the forward-auth endpoint as a reverse
// proxy calls it: failures limited per address and per login in their own windows; the account
// password on its own lockout budget (no faster than the sign-in page, never locking the web); a
// locked or blocked account refused; one answer, one argon2 verify for every refusal; an
// organization's "require 2FA" leaves app passwords the only way in. The server trusts the proxy
// (TRUST_PROXY), so each case picks its client's address with X-Forwarded-For.
import crypto from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  primaryStorageMode,
  createUser,
  createClient,
  failureCount,
  type TestServer,
} from './helpers/server.ts';
import { Agent, findForm } from './helpers/agent.ts';
import { signedInUser, enrolTotp, signInToAccount, passwordStep, totpCode } from './helpers/mfa.ts';
import { newAppPassword } from '../src/app-passwords/format.ts';

const WRONG = 'not the password at all';
let ipCount = 0;
/** A client address of its own for each case (the per-address windows must not meet). */
const freshIp = () => `198.51.100.${++ipCount}`;

describe.each(primaryStorageMode())('sync channel abuse (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    // The production windows (the test servers' defaults are wide, for suites that sign in often).
    const limits = { RATE_LIMIT_LOGIN_PER_ACCOUNT: '10', RATE_LIMIT_LOGIN_PER_IP: '30' };
    srv = await startServer({ mode, env: { TRUST_PROXY: 'true', ...limits } });
  });
  afterAll(async () => srv?.stop());

  async function check(login: string, password: string, ip: string) {
    const res = await fetch(`${srv.url}/auth/forward`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
        'X-Forwarded-For': ip,
      },
    });
    const body = await res.text();
    return { status: res.status, body, challenge: res.headers.get('www-authenticate') };
  }
  const argon2Runs = () => srv.deps.password.verifications.real + srv.deps.password.verifications.dummy;
  const by = { ip: '127.0.0.1', device: 'test' };
  const appPassword = async (accountId: string, name = 'Thunderbird') =>
    (await srv.deps.appPasswords.create(accountId, name, by)).secret;
  /** A signed-in user with 2FA on (an authenticator app) and one app password. */
  async function withTwoFactor() {
    const user = await signedInUser(srv);
    const { secret } = await enrolTotp(user.agent);
    return { ...user, totp: secret, app: await appPassword(user.account.id) };
  }
  const account = async (id: string) => (await srv.deps.repos.accounts.findById(id))!;
  const setThreshold = (id: string, n: number) => srv.deps.repos.accounts.update(id, { lockoutThreshold: n });

  it("app-password.brute-force-throttled: past a login's window its wrong passwords are no longer checked (no argon2) while its owner's app password still works; past an address's window nothing from it is checked; the web sign-in is never locked by them", async () => {
    const { loginPerAccount, loginPerIp } = srv.config.rateLimits;
    const user = await withTwoFactor();
    const stranger = freshIp();
    const before = argon2Runs();
    for (let i = 0; i < loginPerAccount; i++) {
      expect((await check(user.email, newAppPassword(), stranger)).body).toContain('invalid_credentials');
    }
    // Each of those cost one argon2 verify (the same work as a wrong account password).
    expect(argon2Runs() - before).toBe(loginPerAccount);
    const limited = await check(user.email, WRONG, stranger);
    expect(limited.status).toBe(401);
    expect(limited.body).toContain('rate_limited');
    expect(limited.challenge).toMatch(/^Basic realm="Sesame"/);
    // Not checked any more: no argon2, even for the account password itself.
    const spent = argon2Runs();
    expect((await check(user.email, user.password, freshIp())).body).toContain('rate_limited');
    expect(argon2Runs()).toBe(spent);
    // The owner's tool, from anywhere, with its app password: still in.
    expect((await check(user.email, user.app, freshIp())).status).toBe(200);
    expect((await check(user.email, user.app, stranger)).status).toBe(200);

    // One address guessing many logins: past its window, nothing from it is checked at all.
    const scanner = freshIp();
    for (let i = 0; i < loginPerIp; i++) await check(`nobody-${i}-${crypto.randomUUID()}@example.test`, WRONG, scanner);
    const other = await withTwoFactor();
    expect((await check(other.email, other.app, scanner)).body).toContain('rate_limited');
    expect((await check(other.email, other.app, freshIp())).status).toBe(200);

    // None of it touched the web lockout: its counter is untouched and the owner signs in.
    expect(await failureCount(srv, 'password', user.account.id)).toBe(0);
    expect((await account(user.account.id)).lockedAt).toBeNull();
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password, '/account/security', async (page) =>
      agent.submit(page, { code: totpCode(user.totp) }, '/second-factor'),
    );
  });

  it('app-password.account-password-guessing-budget: with 2FA off, wrong account passwords on forward auth lock only the sync channel at the account’s own threshold — parallel guesses get no more tries — until a completed web sign-in; the web sign-in works throughout', async () => {
    const user = await createUser(srv);
    await setThreshold(user.account.id, 3);
    expect((await check(user.email, user.password, freshIp())).status).toBe(200);
    srv.deps.accountChanges.announce(user.account.id); // forget that success: the guesses meet the check
    const real = srv.deps.password.verifications.real;
    // Five guesses at once from five addresses: at most the threshold of them reach argon2.
    const guesses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => check(user.email, `${WRONG} ${i}`, freshIp())),
    );
    expect(guesses.every((g) => g.status === 401)).toBe(true);
    expect(srv.deps.password.verifications.real - real).toBeLessThanOrEqual(3);
    const row = await account(user.account.id);
    expect(row.syncLockedAt).not.toBeNull();
    expect(await srv.deps.repos.activity.count(user.account.id, { types: ['sync_locked' as never] })).toBe(1);
    // Locked for the sync channel: even the right password is not checked there any more…
    const spent = srv.deps.password.verifications.real;
    expect((await check(user.email, user.password, freshIp())).status).toBe(401);
    expect(srv.deps.password.verifications.real).toBe(spent);
    // …while the web knows nothing of it: no failure counted, no lock, the sign-in works.
    expect(row.failedPasswords).toBe(0);
    expect(row.lockedAt).toBeNull();
    await signInToAccount(srv, new Agent(srv.url), user.email, user.password);
    // A completed web sign-in gives the sync channel its budget back.
    expect((await check(user.email, user.password, freshIp())).status).toBe(200);
    expect((await account(user.account.id)).syncLockedAt).toBeNull();
  });

  it('app-password.no-enumeration: an unknown login, a wrong password, the account password with 2FA on, a locked account and a blocked member get the same answer, each for one argon2 verify', async () => {
    const known = await withTwoFactor();
    const locked = await withTwoFactor();
    await srv.deps.repos.accounts.lock(locked.account.id);
    const blocked = await withTwoFactor();
    const admin = await signedInUser(srv);
    const org = await srv.deps.repos.organizations.create({ name: 'Acme', type: 'company' }, admin.account.id);
    await srv.deps.repos.organizations.addMember(org.id, blocked.account.id, 'collaborator');
    await blockMember(admin.agent, org.id, blocked.account.id, 'block');
    const cases = [
      [`nobody-${crypto.randomUUID()}@example.test`, newAppPassword()],
      [`nobody-${crypto.randomUUID()}@example.test`, WRONG],
      [known.email, newAppPassword()],
      [known.email, WRONG],
      [known.email, known.password],
      [locked.email, locked.app],
      [locked.email, locked.password],
      [blocked.email, blocked.app],
    ] as const;
    const answers = [];
    for (const [login, password] of cases) {
      const runs = argon2Runs();
      const answer = await check(login, password, freshIp());
      expect(argon2Runs() - runs, `${login} ${password}`).toBe(1);
      answers.push(answer);
    }
    expect(answers[0]).toEqual({
      status: 401,
      body: '{"error":"invalid_credentials"}',
      challenge: 'Basic realm="Sesame", charset="UTF-8"',
    });
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  async function blockMember(admin: Agent, orgId: string, accountId: string, action: 'block' | 'unblock') {
    const csrf = findForm((await admin.go('/account/sessions')).body, '/account/sessions').hidden._csrf!;
    const res = await admin.request(`/account/organizations/${orgId}/members/${accountId}/${action}`, {
      method: 'POST',
      form: { _csrf: csrf },
    });
    expect(res.status).toBeLessThan(400);
  }

  it('app-password.locked-account-refused: an account locked by wrong passwords on the sign-in page has its app passwords refused at once, even where a node remembered a success, until it is unlocked', async () => {
    const user = await withTwoFactor();
    await setThreshold(user.account.id, 3);
    const ip = freshIp();
    expect((await check(user.email, user.app, ip)).status).toBe(200);
    const client = await createClient(srv, { type: 'web' });
    for (let i = 0; i < 3; i++) await passwordStep(srv, client, user.email, WRONG);
    expect((await account(user.account.id)).lockedAt).not.toBeNull();
    expect((await check(user.email, user.app, ip)).status).toBe(401);
    await srv.deps.lockout.unlock(user.account.id, 'cli');
    expect((await check(user.email, user.app, ip)).status).toBe(200);
  });

  it("app-password.blocked-member-refused: a member blocked by an organization's admin has their app passwords refused at once, and accepted again once unblocked", async () => {
    const admin = await signedInUser(srv);
    const org = await srv.deps.repos.organizations.create({ name: 'Blockers', type: 'company' }, admin.account.id);
    const member = await withTwoFactor();
    await srv.deps.repos.organizations.addMember(org.id, member.account.id, 'collaborator');
    const ip = freshIp();
    expect((await check(member.email, member.app, ip)).status).toBe(200);
    await blockMember(admin.agent, org.id, member.account.id, 'block');
    expect((await check(member.email, member.app, ip)).status).toBe(401);
    await blockMember(admin.agent, org.id, member.account.id, 'unblock');
    expect((await check(member.email, member.app, ip)).status).toBe(200);
  });

  it("app-password.org-requires-2fa: once an organization requires 2FA, its members' account passwords stop working on forward auth at once; app passwords are then the only way for their sync tools", async () => {
    const admin = await signedInUser(srv);
    await enrolTotp(admin.agent); // an admin without 2FA would be sent to set it up first
    const org = await srv.deps.repos.organizations.create({ name: 'Strict', type: 'company' }, admin.account.id);
    const member = await signedInUser(srv);
    await srv.deps.repos.organizations.addMember(org.id, member.account.id, 'collaborator');
    const ip = freshIp();
    expect((await check(member.email, member.password, ip)).status).toBe(200);
    const confirm = await admin.agent.go(`/account/organizations/${org.id}/security/require?to=on`);
    expect((await admin.agent.submit(confirm, {}, '/security/require')).body).toContain('id="done"');
    // Refused at once, though this node remembered the success a moment ago.
    expect((await check(member.email, member.password, ip)).status).toBe(401);
    // The member sets 2FA up and makes an app password: that is the way in now.
    await enrolTotp(member.agent);
    const app = await appPassword(member.account.id);
    expect((await check(member.email, app, ip)).status).toBe(200);
    expect((await check(member.email, member.password, freshIp())).status).toBe(401);
  });
});
