// The security console over real HTTP: blocking a member takes their access to the organization's
// applications away; "require 2FA" stops a member without it at every sign-in and account page until
// a factor is enrolled (an external user may leave instead); an admin unlocks a locked member and
// sends security alerts, each email in the member's language; a collaborator can do none of it, and
// no id of another organization is acted on.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import { enrolTotp, passwordStep, signedInUser } from './helpers/mfa.ts';
import { ALERTS_PER_HOUR } from '../src/organizations/member-alerts.ts';
import { createConsoleQueries } from '../src/organizations/console-queries.ts';

describe.each(primaryStorageMode())('organization security console (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const orgs = () => srv.deps.repos.organizations;
  const queries = () => createConsoleQueries(srv.deps.database.db);
  const activityCount = (accountId: string, type: string) =>
    srv.deps.repos.activity.count(accountId, { types: [type as never] });
  const mailsTo = (to: string, kind: string) => srv.outbox().filter((m) => m.to === to && m.kind === kind);

  /** Alice, signed in, legal representative of a new company organization. */
  async function organization(name = 'Acme') {
    const alice = await signedInUser(srv);
    const org = await orgs().create({ name, type: 'company' }, alice.account.id);
    return { alice, org };
  }
  async function member(orgId: string, role: Parameters<ReturnType<typeof orgs>['addMember']>[2], locale = 'en') {
    const user = await createUser(srv, { locale });
    await orgs().addMember(orgId, user.account.id, role);
    return user;
  }
  async function webApp(ownerId: string, orgId: string) {
    const { app, clientSecret } = await srv.deps.applications.create(
      ownerId,
      { name: 'Intranet', type: 'web', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [] },
      orgId,
    );
    return { clientId: app.clientId, clientSecret: clientSecret!, redirectUri: app.redirectUris[0]! };
  }
  /** This browser's form token (any page's forms carry the same one). */
  async function csrf(agent: Agent): Promise<string> {
    return findForm((await agent.go('/account/sessions')).body, '/account/sessions').hidden._csrf!;
  }
  async function post(agent: Agent, path: string, fields: Record<string, string> = {}) {
    return agent.request(path, { method: 'POST', form: { _csrf: await csrf(agent), ...fields } });
  }
  const memberPath = (orgId: string, accountId: string, action: string) =>
    `/account/organizations/${orgId}/members/${accountId}/${action}`;

  const tokenCall = (client: { clientId: string; clientSecret: string }, path: string, form: Record<string, string>) =>
    fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, ...form }),
    });
  async function tokensFor(
    agent: Agent,
    client: Awaited<ReturnType<typeof webApp>>,
    user: { email: string; password: string },
  ) {
    const { code } = await authorize(agent, { ...client, ...user, scope: 'openid offline_access' });
    const res = await tokenCall(client, '/token', {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: client.redirectUri,
    });
    const tok = (await res.json()) as { access_token: string; refresh_token: string };
    expect(tok.refresh_token).toBeTruthy();
    return tok;
  }
  const userinfo = (accessToken: string) =>
    fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });

  it('org.blocked-member-tokens-revoked: blocking a member revokes their tokens, grants and sessions for the organization’s applications only', async () => {
    const { alice, org } = await organization();
    const bob = await member(org.id, 'collaborator');
    const intranet = await webApp(alice.account.id, org.id);
    const elsewhere = await createClient(srv, { type: 'web' });
    const browser = new Agent(srv.url);
    const ours = await tokensFor(browser, intranet, bob);
    const theirs = await tokensFor(browser, elsewhere, bob);
    const sessionApps = async () =>
      (await srv.deps.repos.sessionInfo.live(bob.account.id)).flatMap((s) => Object.keys(s.authorizations));
    expect(await sessionApps()).toEqual(expect.arrayContaining([intranet.clientId, elsewhere.clientId]));

    const res = await post(alice.agent, memberPath(org.id, bob.account.id, 'block'));
    expect(res.status).toBe(303);
    expect((await orgs().membership(org.id, bob.account.id))!.blockedAt).toBeTruthy();

    // The organization's application: refresh refused, access token inactive, userinfo refused.
    const refresh = await tokenCall(intranet, '/token', {
      grant_type: 'refresh_token',
      refresh_token: ours.refresh_token,
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    const introspected = await tokenCall(intranet, '/token/introspection', { token: ours.access_token });
    expect(((await introspected.json()) as { active: boolean }).active).toBe(false);
    expect((await userinfo(ours.access_token)).status).toBe(401);
    // The browser session forgets the application, not the other one.
    expect(await sessionApps()).not.toContain(intranet.clientId);
    expect(await sessionApps()).toContain(elsewhere.clientId);
    // Another organization's application still works.
    expect((await userinfo(theirs.access_token)).status).toBe(200);
    const other = await tokenCall(elsewhere, '/token', {
      grant_type: 'refresh_token',
      refresh_token: theirs.refresh_token,
    });
    expect(other.status).toBe(200);

    expect(await activityCount(bob.account.id, 'org_member_blocked')).toBe(1);
    expect(await activityCount(alice.account.id, 'org_member_blocked')).toBe(1);
    // Blocking again changes (and logs) nothing; unblocking restores the membership.
    expect((await post(alice.agent, memberPath(org.id, bob.account.id, 'block'))).status).toBe(303);
    expect(await activityCount(alice.account.id, 'org_member_blocked')).toBe(1);
    expect((await post(alice.agent, memberPath(org.id, bob.account.id, 'unblock'))).status).toBe(303);
    expect((await orgs().membership(org.id, bob.account.id))!.blockedAt).toBeNull();
    expect(await activityCount(bob.account.id, 'org_member_unblocked')).toBe(1);
    expect(await activityCount(alice.account.id, 'org_member_unblocked')).toBe(1);
  });

  /** Starts signing in to `client` in a fresh browser: the page after the password. */
  const signInToRp = (client: Awaited<ReturnType<typeof webApp>>, user: { email: string; password: string }) =>
    passwordStep(srv, client, user.email, user.password);
  /** The page is the organization's "set up 2FA first": no consent, no code. */
  function isSetUpPrompt(page: Page) {
    expect(page.url.startsWith(`${srv.url}/interaction/`)).toBe(true);
    expect(page.body).toContain('id="twofa-required"');
    expect(page.body).not.toContain('/confirm"');
  }
  async function finishAtRp(agent: Agent, page: Page, client: Awaited<ReturnType<typeof webApp>>) {
    expect(page.body).toContain('/confirm"');
    const back = await agent.submit(page, {}, '/confirm');
    const code = new URL(back.url).searchParams.get('code');
    expect(back.url.startsWith(client.redirectUri)).toBe(true);
    const res = await tokenCall(client, '/token', {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: client.redirectUri,
    });
    expect(res.status).toBe(200);
  }

  it('org.require-2fa-enforced-before-anything-else: a member without 2FA sets it up before any sign-in or account page, and the sign-in then goes on', async () => {
    const { alice, org } = await organization();
    await enrolTotp(alice.agent);
    const bob = await member(org.id, 'collaborator', 'fr');
    const carol = await member(org.id, 'external', 'de');
    const intranet = await webApp(alice.account.id, org.id);
    const pending = (id: string) => srv.deps.twoFactorPolicy.pending(id);
    expect(await pending(bob.account.id)).toBe(false);

    // The console counts the members without 2FA and links to them; the switch asks first.
    const consolePage = await alice.agent.go(`/account/organizations/${org.id}/security`);
    expect(consolePage.status).toBe(200);
    expect(consolePage.body).toContain('data-count="2"');
    expect(consolePage.body).not.toMatch(/orgConsole\.|org\.nav\./); // every text found
    expect(consolePage.body).toContain(`/account/organizations/${org.id}/members?twofa=off`);
    const confirm = await alice.agent.go(`/account/organizations/${org.id}/security/require?to=on`);
    expect(confirm.body).toContain('name="confirm" value="yes"');
    // Without confirm=yes nothing changes.
    expect((await post(alice.agent, `/account/organizations/${org.id}/security/require`, { to: 'on' })).status).toBe(
      400,
    );
    expect((await orgs().findById(org.id))!.require2fa).toBe(false);
    const done = await alice.agent.submit(confirm, {}, '/security/require');
    expect(done.body).toContain('id="done"');
    expect((await orgs().findById(org.id))!.require2fa).toBe(true);
    expect(await pending(bob.account.id)).toBe(true);
    expect(await pending(alice.account.id)).toBe(false);
    for (const id of [alice.account.id, bob.account.id, carol.account.id])
      expect(await activityCount(id, 'org_2fa_required')).toBe(1);
    // Each member without 2FA is told, in their language.
    expect(mailsTo(bob.email, 'org_2fa_required').map((m) => m.subject)).toEqual([
      'Acme exige désormais la validation en deux étapes',
    ]);
    expect(mailsTo(carol.email, 'org_2fa_required')[0]!.subject).toBe(
      'Acme verlangt jetzt die Zwei-Schritt-Verifizierung',
    );
    expect(mailsTo(alice.email, 'org_2fa_required')).toEqual([]);

    // Bob signs in to the organization's application: the set-up page, no consent, no code.
    const { agent, page } = await signInToRp(intranet, bob);
    isSetUpPrompt(page);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    expect((await agent.go(`/interaction/${uid}`)).body).toContain('id="twofa-required"');
    // A consent posted anyway is refused: the interaction is not at consent.
    expect(
      (await agent.request(`/interaction/${uid}/confirm`, { method: 'POST', form: {} })).status,
    ).toBeGreaterThanOrEqual(400);
    // Every account page but enrolment sends him to the explanation.
    const pages = ['/account', '/account/profile', '/account/sessions', '/account/security', '/account/activity'];
    for (const path of [...pages, '/account/applications', `/account/organizations/${org.id}/security`])
      expect((await agent.go(path)).url).toBe(`${srv.url}/account/security/required`);
    const posted = await agent.request('/account/sessions/end-others', { method: 'POST', form: {} });
    expect([posted.status, posted.headers.get('location')]).toEqual([303, '/account/security/required']);
    const required = await agent.go('/account/security/required');
    expect(required.body).toContain('id="twofa-required"');
    expect(required.body).toContain('Configurer la validation en deux étapes'); // Bob's language
    expect(page.body + required.body).not.toMatch(/orgConsole\./);
    expect(required.body).toContain('Acme');
    expect(required.body).toContain('/account/security/totp/new');
    expect(required.body).not.toContain('/account/security/required/leave'); // a collaborator enrols

    // "Set it up now", an authenticator app: the same sign-in goes on to consent and the RP's code.
    const setUp = page.body.match(/href="([^"]+)" id="set-up-now"/)![1]!.replace(/&amp;/g, '&');
    expect((await agent.go(setUp)).body).toContain('id="twofa-required"');
    const { page: codes } = await enrolTotp(agent);
    expect(codes.body).toContain('id="codes"');
    expect(await pending(bob.account.id)).toBe(false);
    const next = await agent.go('/account/security');
    await finishAtRp(agent, next, intranet);
    // And the account pages work again.
    expect((await agent.go('/account/profile')).url).toBe(`${srv.url}/account/profile`);

    // Carol, an external user, leaves the organization instead; her sign-in goes on.
    const c = await signInToRp(intranet, carol);
    isSetUpPrompt(c.page);
    const left = await c.agent.submit(c.page, {}, '/account/security/required/leave');
    expect(await orgs().membership(org.id, carol.account.id)).toBeUndefined();
    expect(await activityCount(carol.account.id, 'org_left')).toBe(1);
    await finishAtRp(c.agent, left, intranet);
  });

  it('the 2FA policy: backup codes alone are no second factor, a blocked membership does not bind, an organization not requiring it neither', async () => {
    const alice = await createUser(srv);
    const org = await orgs().create({ name: 'Policy', type: 'company' }, alice.account.id);
    const bob = await member(org.id, 'collaborator');
    const pending = (id: string) => srv.deps.twoFactorPolicy.pending(id);
    expect(await pending(bob.account.id)).toBe(false);
    await queries().setRequire2fa(org.id, true);
    expect(await pending(bob.account.id)).toBe(true);
    expect(await pending(alice.account.id)).toBe(true);
    await srv.deps.repos.backupCodes.replace(bob.account.id, ['h1', 'h2']);
    expect(await pending(bob.account.id)).toBe(true);
    const change = { organizationId: org.id, actorId: alice.account.id, accountId: bob.account.id, blocked: true };
    await queries().setBlocked(change, () => true);
    expect(await pending(bob.account.id)).toBe(false);
    expect(await srv.deps.twoFactorPolicy.requiring(bob.account.id)).toEqual([]);
  });

  it('an administrator unlocks a locked member: logged in both activities, the member emailed in their language', async () => {
    const { alice, org } = await organization('Helvetia');
    const bob = await member(org.id, 'collaborator', 'de');
    // Not locked: nothing to do, nobody emailed.
    expect((await post(alice.agent, memberPath(org.id, bob.account.id, 'unlock'))).status).toBe(303);
    expect(mailsTo(bob.email, 'org_unlocked')).toEqual([]);

    await srv.deps.repos.accounts.lock(bob.account.id, new Date());
    const res = await post(alice.agent, memberPath(org.id, bob.account.id, 'unlock'));
    expect(res.status).toBe(303);
    expect((await srv.deps.repos.accounts.findById(bob.account.id))!.lockedAt).toBeNull();
    expect(await activityCount(bob.account.id, 'org_member_unlocked')).toBe(1);
    expect(await activityCount(bob.account.id, 'unlocked')).toBe(1);
    expect(await activityCount(alice.account.id, 'org_member_unlocked')).toBe(1);
    const [mail] = mailsTo(bob.email, 'org_unlocked');
    expect(mail!.subject).toBe('Ihr Sesame-Konto wurde entsperrt');
    expect(mail!.text).toContain('Helvetia');
    expect(mail!.text).toContain(alice.email);
    // Bob signs in again.
    const { code } = await authorize(new Agent(srv.url), { ...(await webApp(alice.account.id, org.id)), ...bob });
    expect(code).toBeTruthy();
  });

  it('a security alert reaches the member in their language, at most 3 an hour; "alert everyone without 2FA" too', async () => {
    const { alice, org } = await organization('Roma');
    const bob = await member(org.id, 'collaborator', 'it');
    for (let i = 0; i < ALERTS_PER_HOUR; i++)
      expect((await post(alice.agent, memberPath(org.id, bob.account.id, 'alert'))).status).toBe(303);
    expect((await post(alice.agent, memberPath(org.id, bob.account.id, 'alert'))).status).toBe(429);
    const mails = mailsTo(bob.email, 'org_alert');
    expect(mails).toHaveLength(ALERTS_PER_HOUR);
    expect(mails[0]!.subject).toBe('Avviso di sicurezza da Roma');
    expect(mails[0]!.text).toContain('La verifica in due passaggi è disattivata');
    expect(await activityCount(bob.account.id, 'org_security_alert')).toBe(ALERTS_PER_HOUR);
    expect(await activityCount(alice.account.id, 'org_security_alert')).toBe(ALERTS_PER_HOUR);

    // Everyone without 2FA: Carol gets one, Bob none (his hour is spent), Alice does not alert herself.
    const carol = await member(org.id, 'external', 'es');
    const page = await alice.agent.go(`/account/organizations/${org.id}/security`);
    const done = await alice.agent.submit(page, {}, '/security/alert');
    expect(done.url).toContain('done=alerted&sent=1');
    expect(mailsTo(carol.email, 'org_alert')[0]!.subject).toBe('Alerta de seguridad de Roma');
    expect(mailsTo(bob.email, 'org_alert')).toHaveLength(ALERTS_PER_HOUR);
    expect(mailsTo(alice.email, 'org_alert')).toEqual([]);
  });

  it('org.collaborator-cannot-use-the-security-console: block, unblock, unlock, alert and the 2FA policy are refused (403), nothing changes', async () => {
    const { alice, org } = await organization();
    const bob = await signedInUser(srv);
    await orgs().addMember(org.id, bob.account.id, 'collaborator');
    const carol = await member(org.id, 'collaborator');
    await srv.deps.repos.accounts.lock(carol.account.id, new Date());
    const before = srv.outbox().length;
    for (const action of ['block', 'unblock', 'unlock', 'alert'])
      expect((await post(bob.agent, memberPath(org.id, carol.account.id, action))).status).toBe(403);
    expect((await bob.agent.request(`/account/organizations/${org.id}/security`)).status).toBe(403);
    expect((await bob.agent.request(`/account/organizations/${org.id}/security/require?to=on`)).status).toBe(403);
    const policy = await post(bob.agent, `/account/organizations/${org.id}/security/require`, {
      to: 'on',
      confirm: 'yes',
    });
    expect(policy.status).toBe(403);
    expect((await post(bob.agent, `/account/organizations/${org.id}/security/alert`)).status).toBe(403);
    expect((await orgs().membership(org.id, carol.account.id))!.blockedAt).toBeNull();
    expect((await srv.deps.repos.accounts.findById(carol.account.id))!.lockedAt).toBeTruthy();
    expect((await orgs().findById(org.id))!.require2fa).toBe(false);
    expect(srv.outbox().length).toBe(before);

    // An administrator may not block a legal representative, nor anyone themselves.
    const dan = await signedInUser(srv);
    await orgs().addMember(org.id, dan.account.id, 'administrator');
    expect((await post(dan.agent, memberPath(org.id, alice.account.id, 'block'))).status).toBe(403);
    expect((await post(dan.agent, memberPath(org.id, dan.account.id, 'block'))).status).toBe(403);
    expect((await post(alice.agent, memberPath(org.id, alice.account.id, 'block'))).status).toBe(403);
    expect((await orgs().membership(org.id, alice.account.id))!.blockedAt).toBeNull();
    // A blocked administrator can do nothing either.
    await post(alice.agent, memberPath(org.id, dan.account.id, 'block'));
    expect((await post(dan.agent, memberPath(org.id, carol.account.id, 'unlock'))).status).toBe(403);
    expect((await srv.deps.repos.accounts.findById(carol.account.id))!.lockedAt).toBeTruthy();
  });

  it('org.other-org-ids (security console): a member or an organization of another organization is refused (404), never acted on', async () => {
    const { alice, org } = await organization();
    const mallory = await createUser(srv);
    const evil = await orgs().create({ name: 'Evil', type: 'company' }, mallory.account.id);
    const eve = await member(evil.id, 'collaborator');
    await srv.deps.repos.accounts.lock(eve.account.id, new Date());
    for (const action of ['block', 'unblock', 'unlock', 'alert']) {
      // Eve is not a member of Alice's organization; Alice is not a member of Eve's.
      expect((await post(alice.agent, memberPath(org.id, eve.account.id, action))).status).toBe(404);
      expect((await post(alice.agent, memberPath(evil.id, eve.account.id, action))).status).toBe(404);
      expect((await post(alice.agent, memberPath(org.id, 'not-an-id', action))).status).toBe(404);
    }
    expect((await alice.agent.request(`/account/organizations/${evil.id}/security`)).status).toBe(404);
    const policy = await post(alice.agent, `/account/organizations/${evil.id}/security/require`, {
      to: 'on',
      confirm: 'yes',
    });
    expect(policy.status).toBe(404);
    // Leaving "instead of 2FA" an organization that requires nothing of this account.
    const leave = await post(alice.agent, '/account/security/required/leave', { organization_id: evil.id });
    expect(leave.status).toBe(404);
    expect((await orgs().membership(evil.id, eve.account.id))!.blockedAt).toBeNull();
    expect((await srv.deps.repos.accounts.findById(eve.account.id))!.lockedAt).toBeTruthy();
    expect((await orgs().findById(evil.id))!.require2fa).toBe(false);
    expect(mailsTo(eve.email, 'org_alert')).toEqual([]);
  });
});
