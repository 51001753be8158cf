// Invitations by email and teams, over HTTP against real stores: a link used once (in parallel
// too), expired or revoked links, the token never stored readable, sign-up from an invitation with
// the address verified, the wrong account refused, the legal-representative role kept to legal
// representatives, ids of another organization refused, and the teams' pages.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import {
  startServer,
  primaryStorageMode,
  createUser,
  uniqueEmail,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, findForm, type Page } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';
import { organizations, type Role } from '../src/db/schema.ts';

describe.each(primaryStorageMode())('organization invitations and teams (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const db = () => srv.deps.database.db;
  const rows = async <T>(query: ReturnType<typeof sql>) =>
    ((await db().execute(query)) as unknown as { rows: T[] }).rows;
  const invitationsPath = (orgId: string) => `/account/organizations/${orgId}/invitations`;
  const teamsPath = (orgId: string) => `/account/organizations/${orgId}/teams`;

  /** An organization whose legal representative is signed in on its invitations page. */
  async function orgWithAdmin(over: { locale?: string; role?: Role } = {}) {
    const founder = await createUser(srv, { locale: over.locale });
    const org = await srv.deps.repos.organizations.create(
      { name: `Acme ${Math.random().toString(36).slice(2, 7)}`, type: 'company' },
      founder.account.id,
    );
    let admin = founder;
    if (over.role && over.role !== 'legal_representative') {
      admin = await createUser(srv, { locale: over.locale });
      await srv.deps.repos.organizations.addMember(org.id, admin.account.id, over.role);
    }
    const agent = new Agent(srv.url);
    const page = await signInToAccount(srv, agent, admin.email, admin.password, invitationsPath(org.id));
    return { org, admin, agent, page };
  }

  async function invite(agent: Agent, orgId: string, email: string, role: Role = 'collaborator') {
    const page = await agent.go(invitationsPath(orgId));
    return agent.submit(page, { email, role }, `${invitationsPath(orgId)}"`);
  }

  const mails = (to: string) => srv.outbox().filter((m) => m.to === to.toLowerCase());
  const linkTo = (to: string) => {
    const mail = mails(to).at(-1);
    expect(mail, `an invitation to ${to}`).toBeDefined();
    return mail!.text.match(/http\S+\/invitation\/[\w-]+/)![0];
  };
  const tokenOf = (link: string) => link.split('/invitation/')[1]!;
  const membership = (orgId: string, accountId: string) => srv.deps.repos.organizations.membership(orgId, accountId);
  const expectLinkInvalid = (page: Page) => {
    expect(page.status).toBe(400);
    expect(page.body).toContain('id="new-reset-link"');
  };
  async function signedIn(email: string, password = STRONG_PASSWORD) {
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, email, password, '/account');
    return agent;
  }

  it('org.invitation-single-use: accepted once — twice in a row, or twice at once, makes one membership; a used link cannot sign up either', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const bob = await createUser(srv);
    const sent = await invite(admin, org.id, bob.email.toUpperCase());
    expect(sent.status).toBe(200);
    expect(sent.body).toContain('id="done"');
    const link = linkTo(bob.email);
    const bobAgent = await signedIn(bob.email);
    const page = await bobAgent.go(link);
    expect(page.status).toBe(200);
    expect(page.body).toContain(org.name);
    const accepted = await bobAgent.submit(page, {}, '/accept');
    expect(accepted.url).toBe(`${srv.url}/account`);
    expect((await membership(org.id, bob.account.id))?.role).toBe('collaborator');
    expect((await srv.deps.repos.accounts.findById(bob.account.id))?.currentOrganizationId).toBe(org.id);
    // The same form once more, the link itself, and its sign-up: all spent.
    const form = findForm(page.body, '/accept');
    expectLinkInvalid(await bobAgent.go(new URL(form.action, link).href, { method: 'POST', form: form.hidden }));
    expectLinkInvalid(await bobAgent.go(link));
    expectLinkInvalid(await new Agent(srv.url).go(`${link}/signup`));
    const joined = await rows<{ account_id: string }>(
      sql`SELECT account_id FROM activity WHERE type = 'org_joined' AND details->>'organizationId' = ${org.id}`,
    );
    expect(joined).toHaveLength(2); // Bob's log and the inviter's.

    // Two accepts at once: exactly one membership, the other gets link_invalid.
    const carol = await createUser(srv);
    await invite(admin, org.id, carol.email, 'external');
    const carolLink = linkTo(carol.email);
    const carolAgent = await signedIn(carol.email);
    const carolPage = await carolAgent.go(carolLink);
    const carolForm = findForm(carolPage.body, '/accept');
    const target = new URL(carolForm.action, carolLink).href;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => carolAgent.request(target, { method: 'POST', form: carolForm.hidden })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([303, 400, 400, 400]);
    const members = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM memberships WHERE organization_id = ${org.id} AND account_id = ${carol.account.id}`,
    );
    expect(members[0]!.n).toBe(1);

    // Two sign-ups at once from one link: one account, one membership.
    const dan = uniqueEmail('dan');
    await invite(admin, org.id, dan);
    const danLink = linkTo(dan);
    const browser = new Agent(srv.url);
    const signupPage = await browser.go(`${danLink}/signup`);
    const signupForm = findForm(signupPage.body, '/signup');
    const fields = { ...signupForm.hidden, given_name: 'Dan', family_name: 'Brown', password: STRONG_PASSWORD };
    const made = await Promise.all(
      Array.from({ length: 3 }, () =>
        browser.request(new URL(signupForm.action, danLink).href, { method: 'POST', form: fields }),
      ),
    );
    expect(made.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    const dans = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM accounts WHERE email = ${dan}`);
    expect(dans[0]!.n).toBe(1);
  });

  it('org.invitation-expired-or-revoked: an expired, a revoked and an unknown link are the same link_invalid page', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const [late, withdrawn] = [uniqueEmail('late'), uniqueEmail('withdrawn')];
    await invite(admin, org.id, late);
    await invite(admin, org.id, withdrawn);
    const [lateLink, withdrawnLink] = [linkTo(late), linkTo(withdrawn)];
    await db().execute(sql`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = ${late}`);
    // Revoked from the page.
    const page = await admin.go(invitationsPath(org.id));
    expect(page.body).toContain(withdrawn);
    expect(page.body).not.toContain(late);
    const [{ id }] = await rows<{ id: string }>(sql`SELECT id FROM invitations WHERE email = ${withdrawn}`);
    const revoked = await admin.submit(page, {}, `/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).not.toContain(withdrawn);

    const bodies: string[] = [];
    for (const link of [lateLink, withdrawnLink, `${srv.url}/invitation/${'x'.repeat(43)}`]) {
      const browser = new Agent(srv.url);
      for (const path of ['', '/signup']) {
        const res = await browser.go(`${link}${path}`);
        expectLinkInvalid(res);
        // The same page but for what names the address asked for (the language switcher's way back).
        bodies.push(res.body.replace(/name="_csrf" value="[^"]*"/g, '').replace(/\/language\?[^"]*/g, ''));
      }
      const user = await createUser(srv, { email: uniqueEmail() });
      const agent = await signedIn(user.email);
      const res = await agent.request(`${link}/accept`, { method: 'POST', form: {} });
      expect(res.status).toBe(403); // No CSRF token from a page: refused before anything else.
    }
    expect(new Set(bodies).size).toBe(1);
    const joined = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM memberships WHERE organization_id = ${org.id}`,
    );
    expect(joined[0]!.n).toBe(1);
    const logged = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM activity WHERE type = 'org_invitation_revoked' AND details->>'organizationId' = ${org.id}`,
    );
    expect(logged[0]!.n).toBe(1);
  });

  it('org.invitation-token-not-stored: the database holds no row containing the link token', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const email = uniqueEmail('hidden');
    await invite(admin, org.id, email);
    const token = tokenOf(linkTo(email));
    const tables = await rows<{ table_name: string }>(
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.table_name)).toContain('invitations');
    for (const { table_name } of tables) {
      const found = await rows<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table_name)} t WHERE strpos(row_to_json(t)::text, ${token}) > 0`,
      );
      expect(found[0]!.n, table_name).toBe(0);
    }
    const [row] = await rows<{ token_hash: string }>(sql`SELECT token_hash FROM invitations WHERE email = ${email}`);
    expect(row!.token_hash).toMatch(/^[\w-]{43}$/);
  });

  it('org.invitation-signup: an invited address signs up from the link, verified, a member with the invited role, and signs in at once', async () => {
    const { org, agent: admin } = await orgWithAdmin({ locale: 'fr' });
    const email = uniqueEmail('newcomer');
    await invite(admin, org.id, email, 'external');
    // No account for the address: the email is in the inviter's language.
    const mail = mails(email).at(-1)!;
    expect(mail.subject).toContain('Une invitation à rejoindre');
    expect(mail.text).toContain('Utilisateur externe');
    const link = linkTo(email);
    const browser = new Agent(srv.url);
    const page = await browser.go(link);
    // The page behind the link names the organization; the email does not (next test).
    expect(page.body).toContain(org.name);
    expect(page.body).toContain('id="sign-in"');
    const form = await browser.go(`${link}/signup`);
    expect(form.status).toBe(200);
    expect(form.body).toContain(email);
    expect(form.body).not.toMatch(/name="email"/);
    // The normal sign-up's password policy; an email field sent anyway is ignored.
    const weak = await browser.submit(form, { given_name: 'Nina', family_name: 'Neu', password: 'short' }, '/signup');
    expect(weak.status).toBe(400);
    expect(weak.body).toContain('value="Nina"');
    const done = await browser.submit(
      form,
      { given_name: 'Nina', family_name: 'Neu', password: STRONG_PASSWORD, email: 'mallory@evil.example' },
      '/signup',
    );
    // The page says the account is made and a member; its button starts the sign-in.
    expect(done.body).toContain('id="joined"');
    const signInPage = await browser.go('/account');
    expect(signInPage.body).toContain('name="password"');
    const account = await srv.deps.repos.accounts.findByEmail(email);
    expect(account?.emailVerified).toBe(true);
    expect(await srv.deps.repos.accounts.findByEmail('mallory@evil.example')).toBeUndefined();
    expect((await membership(org.id, account!.id))?.role).toBe('external');
    expect(account!.currentOrganizationId).toBe(org.id);
    expect(await srv.deps.repos.organizations.personalOf(account!.id)).toBeDefined();
    const signedInPage = await browser.submit(signInPage, { email, password: STRONG_PASSWORD }, '/login');
    expect(signedInPage.url).toBe(`${srv.url}/account`);

    // An address with an account: the email in the account's language; the sign-up form says it exists.
    const german = await createUser(srv, { locale: 'de' });
    const before = await invite(admin, org.id, german.email);
    expect(before.status).toBe(200);
    expect(mails(german.email).at(-1)!.subject).toContain('Einladung');
    const exists = await new Agent(srv.url).go(`${linkTo(german.email)}/signup`);
    expect(exists.body).toContain('id="account-exists"');
    expect(exists.body).not.toContain('name="password"');
  });

  it('org.invitation-not-a-phishing-relay: the email carries nothing anyone typed (organization name, inviter name)', async () => {
    const { agent: admin, org } = await orgWithAdmin({ locale: 'en' });
    const bait = 'Your password expires today - reset it at https://evil.example/reset';
    await srv.deps.database.db.update(organizations).set({ name: bait }).where(eq(organizations.id, org.id));
    const email = uniqueEmail('target');
    await invite(admin, org.id, email, 'collaborator');
    const mail = mails(email).at(-1)!;
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).not.toContain('evil.example');
      expect(part).not.toContain(bait);
    }
    expect(mail.text).toMatch(/\/invitation\/[\w-]{43}/);
  });
  it('org.invitation-answers-the-same: inviting an address with or without an account looks the same to the admin', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const existing = await createUser(srv);
    const page = await admin.go(invitationsPath(org.id));
    const form = findForm(page.body, `${invitationsPath(org.id)}"`);
    const post = (email: string) =>
      admin.request(new URL(form.action, srv.url).href, {
        method: 'POST',
        form: { ...form.hidden, email, role: 'collaborator' },
      });
    const [a, b] = [await post(existing.email), await post(uniqueEmail())];
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.get('location')).toBe(b.headers.get('location'));
  });

  it('org.invitation-already-member: inviting a member is already_member (409) and sends nothing', async () => {
    const { org, agent: admin, admin: founder } = await orgWithAdmin();
    const count = mails(founder.email).length;
    const res = await invite(admin, org.id, founder.email);
    expect(res.status).toBe(409);
    expect(res.body).toContain(`value="${founder.email}"`);
    expect(mails(founder.email)).toHaveLength(count);
  });

  it('org.invitation-sign-in-to-accept: a signed-out browser signs in through the login flow and comes back to accept', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const erin = await createUser(srv);
    await invite(admin, org.id, erin.email, 'administrator');
    const link = linkTo(erin.email);
    const browser = new Agent(srv.url);
    const page = await browser.go(link);
    expect(page.body).toContain('id="create-account"');
    const login = await browser.go(`${link}/sign-in`);
    expect(login.body).toContain('name="password"');
    const back = await browser.submit(login, { email: erin.email, password: erin.password }, '/login');
    expect(back.url).toBe(link);
    expect(back.body).toContain('id="accept"');
    const accepted = await browser.submit(back, {}, '/accept');
    expect(accepted.url).toBe(`${srv.url}/account`);
    expect((await membership(org.id, erin.account.id))?.role).toBe('administrator');
  });

  it('org.invitation-other-email: an account signed in with another address cannot accept', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const invited = uniqueEmail('invited');
    await invite(admin, org.id, invited);
    const link = linkTo(invited);
    const mallory = await createUser(srv);
    const agent = await signedIn(mallory.email);
    const page = await agent.go(link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="other-email"');
    expect(page.body).toContain('href="/logout"');
    expect(page.body).not.toContain('id="accept"');
    // Forging the accept form with this browser's CSRF token (taken from the switcher form of an account page).
    const account = await agent.go('/account');
    const csrf = account.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const res = await agent.go(`${link}/accept`, { method: 'POST', form: { _csrf: csrf } });
    expect(res.status).toBe(403);
    expect(await membership(org.id, mallory.account.id)).toBeUndefined();
    // The link still works for its addressee.
    expect((await new Agent(srv.url).go(link)).status).toBe(200);
  });

  it('org.admin-cannot-invite-legal-rep: an administrator is not offered the role and is refused it; a legal representative may', async () => {
    const { org, agent: admin, page } = await orgWithAdmin({ role: 'administrator' });
    expect(page.body).toContain('value="administrator"');
    expect(page.body).not.toContain('value="legal_representative"');
    const target = uniqueEmail('heir');
    const res = await invite(admin, org.id, target, 'legal_representative');
    expect(res.status).toBe(403);
    expect(mails(target)).toHaveLength(0);
    expect(await rows(sql`SELECT id FROM invitations WHERE email = ${target}`)).toHaveLength(0);

    const { org: org2, agent: legalRep, page: page2 } = await orgWithAdmin();
    expect(page2.body).toContain('value="legal_representative"');
    expect((await invite(legalRep, org2.id, target, 'legal_representative')).status).toBe(200);
    expect(mails(target)).toHaveLength(1);

    // A collaborator or external user has no invitations page, nor teams page.
    for (const role of ['collaborator', 'external'] as const) {
      const user = await createUser(srv);
      await srv.deps.repos.organizations.addMember(org.id, user.account.id, role);
      const agent = await signedIn(user.email);
      expect((await agent.go(invitationsPath(org.id))).status).toBe(403);
      expect((await agent.go(teamsPath(org.id))).status).toBe(403);
    }
  });

  it('org.other-org-ids.invitations-and-teams: an invitation, a team or a member of another organization in a URL or form is a 404 and changes nothing', async () => {
    const { org: acme, agent: alice } = await orgWithAdmin();
    const { org: other, agent: mallory } = await orgWithAdmin();
    const target = uniqueEmail('target');
    await invite(alice, acme.id, target);
    const [{ id: invitationId }] = await rows<{ id: string }>(sql`SELECT id FROM invitations WHERE email = ${target}`);
    const acmeTeam = await srv.deps.repos.teams.create(acme.id, 'Acme team');
    const otherTeam = await srv.deps.repos.teams.create(other.id, 'Other team');
    const outsider = await createUser(srv);
    await srv.deps.repos.organizations.addMember(other.id, outsider.account.id, 'collaborator');

    // Mallory's own pages, with Acme's ids.
    const page = await mallory.go(teamsPath(other.id));
    const csrf = findForm(page.body, `${teamsPath(other.id)}"`).hidden;
    const post = (path: string, form: Record<string, string> = {}) =>
      mallory.request(path, { method: 'POST', form: { ...csrf, ...form } });
    expect((await post(`${invitationsPath(other.id)}/${invitationId}/revoke`)).status).toBe(404);
    expect((await mallory.go(`${teamsPath(other.id)}/${acmeTeam!.id}`)).status).toBe(404);
    expect((await post(`${teamsPath(other.id)}/${acmeTeam!.id}/rename`, { name: 'Pwned' })).status).toBe(404);
    expect((await post(`${teamsPath(other.id)}/${acmeTeam!.id}/delete`, { confirm: 'yes' })).status).toBe(404);
    expect(
      (await post(`${teamsPath(other.id)}/${acmeTeam!.id}/members`, { account_id: outsider.account.id })).status,
    ).toBe(404);
    // Acme's URLs: Mallory is not a member.
    expect((await mallory.go(invitationsPath(acme.id))).status).toBe(404);
    expect((await post(`${invitationsPath(acme.id)}/${invitationId}/revoke`)).status).toBe(404);
    expect((await mallory.go(`${teamsPath(acme.id)}/${acmeTeam!.id}`)).status).toBe(404);

    // Alice's pages, with the other organization's team and member.
    const alicePage = await alice.go(`${teamsPath(acme.id)}/${acmeTeam!.id}`);
    expect(alicePage.status).toBe(200);
    expect(alicePage.body).not.toContain(outsider.email);
    const aliceCsrf = findForm(alicePage.body, '/rename').hidden;
    const alicePost = (path: string, form: Record<string, string> = {}) =>
      alice.request(path, { method: 'POST', form: { ...aliceCsrf, ...form } });
    expect(
      (await alicePost(`${teamsPath(acme.id)}/${acmeTeam!.id}/members`, { account_id: outsider.account.id })).status,
    ).toBe(404);
    expect(
      (await alicePost(`${teamsPath(acme.id)}/${otherTeam!.id}/members`, { account_id: outsider.account.id })).status,
    ).toBe(404);
    expect((await alicePost(`${teamsPath(acme.id)}/${otherTeam!.id}/delete`, { confirm: 'yes' })).status).toBe(404);
    expect(
      (await alicePost(`${teamsPath(acme.id)}/${acmeTeam!.id}/members/${outsider.account.id}/remove`)).status,
    ).toBe(404);

    // Nothing changed.
    expect((await srv.deps.repos.invitations.pending(acme.id)).map((i) => i.email)).toEqual([target]);
    expect((await srv.deps.repos.teams.find(acme.id, acmeTeam!.id))?.name).toBe('Acme team');
    expect(await srv.deps.repos.teams.find(other.id, otherTeam!.id)).toBeDefined();
    expect(await srv.deps.repos.teams.members(acme.id, acmeTeam!.id)).toEqual([]);
    expect(await srv.deps.repos.teams.members(other.id, otherTeam!.id)).toEqual([]);
    // The database's own keys refuse it too, as a clean answer.
    expect(await srv.deps.repos.teams.addMember(acme.id, acmeTeam!.id, outsider.account.id)).toBe('refused');
  });

  it('org.teams: create, a duplicate name (any case) refused with the input kept, add and remove a member, rename, delete', async () => {
    const { org, agent: admin, admin: founder } = await orgWithAdmin();
    const bob = await createUser(srv);
    await srv.deps.repos.organizations.addMember(org.id, bob.account.id, 'collaborator');
    const list = await admin.go(teamsPath(org.id));
    expect(list.status).toBe(200);
    expect(list.body).toContain('id="no-teams"');
    const created = await admin.submit(list, { name: '  Editors ' }, `${teamsPath(org.id)}"`);
    expect(created.status).toBe(200);
    expect(created.body).toContain('<h1>Editors</h1>');
    const teamUrl = created.url.replace(/\?.*$/, '');

    const dup = await admin.submit(await admin.go(teamsPath(org.id)), { name: 'EDITORS' }, `${teamsPath(org.id)}"`);
    expect(dup.status).toBe(409);
    expect(dup.body).toContain('value="EDITORS"');
    for (const name of ['', 'x'.repeat(101)])
      expect((await admin.submit(list, { name }, `${teamsPath(org.id)}"`)).status).toBe(400);

    // Add Bob (the select offers the organization's members).
    const teamPage = await admin.go(teamUrl);
    expect(teamPage.body).toContain(`value="${bob.account.id}"`);
    const added = await admin.submit(teamPage, { account_id: bob.account.id }, '/members');
    expect(added.status).toBe(200);
    expect(added.body).toContain(`data-member="${bob.account.id}"`);
    const teamId = teamUrl.split('/').at(-1)!;
    expect(await srv.deps.repos.teams.teamIdsOf(org.id, bob.account.id)).toEqual([teamId]);
    const counted = await admin.go(teamsPath(org.id));
    expect(counted.body).toMatch(new RegExp(`data-team="${teamId}">.*<td>1</td>`));
    const logs = async (accountId: string, type: string) =>
      (
        await rows<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM activity WHERE account_id = ${accountId} AND type = ${type}`,
        )
      )[0]!.n;
    expect(await logs(bob.account.id, 'org_team_member_added')).toBe(1);
    expect(await logs(founder.account.id, 'org_team_member_added')).toBe(1);

    // Rename: taken by another team refused, then a new name.
    await srv.deps.repos.teams.create(org.id, 'Readers');
    const taken = await admin.submit(added, { name: 'readers' }, '/rename');
    expect(taken.status).toBe(409);
    expect(taken.body).toContain('value="readers"');
    const renamed = await admin.submit(added, { name: 'Writers' }, '/rename');
    expect(renamed.body).toContain('<h1>Writers</h1>');

    // Remove Bob, then delete the team (confirmed).
    const removed = await admin.submit(renamed, {}, `/members/${bob.account.id}/remove`);
    expect(removed.body).not.toContain(`data-member="${bob.account.id}"`);
    expect(await logs(bob.account.id, 'org_team_member_removed')).toBe(1);
    const unconfirmed = await admin.submit(removed, {}, '/delete');
    expect(unconfirmed.status).toBe(400);
    expect(await srv.deps.repos.teams.find(org.id, teamId)).toBeDefined();
    const deleted = await admin.submit(removed, { confirm: 'yes' }, '/delete');
    expect(deleted.url).toContain(`${teamsPath(org.id)}?done=deleted`);
    expect(await srv.deps.repos.teams.find(org.id, teamId)).toBeUndefined();
    expect(await logs(founder.account.id, 'org_team_created')).toBe(1);
    expect(await logs(founder.account.id, 'org_team_deleted')).toBe(1);
  });

  it('org.invitation-rate-limited: an organization sends at most 20 invitations an hour', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const page = await admin.go(invitationsPath(org.id));
    const form = findForm(page.body, `${invitationsPath(org.id)}"`);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push(
        (
          await admin.request(new URL(form.action, srv.url).href, {
            method: 'POST',
            form: { ...form.hidden, email: uniqueEmail('many'), role: 'external' },
          })
        ).status,
      );
    expect(statuses.slice(0, 20).every((s) => s === 303)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('org.invitation-flood-one-address: one address receives no more invitations an hour than any other email, whichever organizations send them', async () => {
    // A server with the production-like limit (the shared one lifts it for the other tests).
    const own = await startServer({ mode, env: { RATE_LIMIT_EMAIL_PER_RECIPIENT: '3' } });
    try {
      const victim = uniqueEmail('victim');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const admin = await createUser(own);
        const org = await own.deps.repos.organizations.create(
          { name: `Flood ${i}`, type: 'company' },
          admin.account.id,
        );
        const agent = new Agent(own.url);
        const page = await signInToAccount(own, agent, admin.email, admin.password, invitationsPath(org.id));
        const sent = await agent.submit(page, { email: victim, role: 'external' }, `${invitationsPath(org.id)}"`);
        statuses.push(sent.status);
      }
      expect(statuses.slice(0, 3).every((s) => s === 200 || s === 303)).toBe(true);
      expect(statuses[3]).toBe(429);
      await own.drained();
      expect(own.outbox().filter((m) => m.to === victim)).toHaveLength(3);
    } finally {
      await own.stop();
    }
  });
  it('org.invitations-no-5xx: odd tokens, ids and form values are answered 4xx', async () => {
    const { org, agent: admin } = await orgWithAdmin();
    const team = await srv.deps.repos.teams.create(org.id, 'Odd');
    const page = await admin.go(teamsPath(org.id));
    const hidden = findForm(page.body, `${teamsPath(org.id)}"`).hidden;
    const odd = ['x', '%00', '%E0%A4%A', '..', 'a'.repeat(300), '00000000-0000-0000-0000-000000000000', "'%20OR%201=1"];
    const statuses: Array<[string, number]> = [];
    const check = async (path: string, init: { method?: string; form?: Record<string, string> } = {}) => {
      const res = await admin.request(path, init);
      statuses.push([`${init.method ?? 'GET'} ${path}`, res.status]);
    };
    for (const v of odd) {
      await check(`/invitation/${v}`);
      await check(`/invitation/${v}/signup`);
      await check(`/invitation/${v}/accept`, { method: 'POST', form: hidden });
      await check(`/invitation/${v}/signup`, {
        method: 'POST',
        form: { ...hidden, given_name: v, family_name: v, password: v },
      });
      await check(`${invitationsPath(org.id)}/${v}/revoke`, { method: 'POST', form: hidden });
      await check(`${teamsPath(org.id)}/${v}`);
      await check(`${teamsPath(org.id)}/${team!.id}/members`, { method: 'POST', form: { ...hidden, account_id: v } });
      await check(`${teamsPath(org.id)}/${team!.id}/members/${v}/remove`, { method: 'POST', form: hidden });
      await check(`${teamsPath(org.id)}/${team!.id}/rename`, { method: 'POST', form: { ...hidden, name: v } });
      await check(invitationsPath(org.id), { method: 'POST', form: { ...hidden, email: v, role: v } });
      await check(`/account/organizations/${v}/teams`);
      await check(`/account/organizations/${v}/invitations`);
    }
    expect(statuses.filter(([, s]) => s >= 500)).toEqual([]);
  });
});
