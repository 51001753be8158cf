// The organization pages and the member management pages over HTTP, against real stores: what each
// role may do (the policy, enforced by the routes, not by hidden buttons), the last legal
// representative, ids of other organizations, the role-change email, removing a member revoking
// their tokens, the members list's filters, and deleting an account that still leads an organization.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { startServer, primaryStorageMode, createUser, type TestServer } from './helpers/server.ts';
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';
import type { Role } from '../src/db/schema.ts';

type User = Awaited<ReturnType<typeof createUser>> & { agent: Agent };

describe.each(primaryStorageMode())('organization members (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode, env: { REAUTH_WINDOW_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const orgs = () => srv.deps.repos.organizations;
  /** A verified account, signed in to its account pages in its own browser. */
  async function user(over: Parameters<typeof createUser>[1] = {}): Promise<User> {
    const u = await createUser(srv, over);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, u.email, u.password, '/account/organizations');
    return { ...u, agent };
  }
  /** An organization led by `lead`, with the others as members in the roles given. */
  async function organization(lead: User, others: Array<[User, Role]> = [], name = 'Acme') {
    const org = await orgs().create({ name, type: 'company' }, lead.account.id);
    for (const [u, role] of others) await orgs().addMember(org.id, u.account.id, role);
    return org;
  }
  /** The form token of the agent's browser (every account page has the switcher form). */
  async function csrf(agent: Agent): Promise<string> {
    return findForm((await agent.go('/account/organizations')).body, '/switch').hidden._csrf!;
  }
  async function post(agent: Agent, path: string, fields: Record<string, string> = {}): Promise<Page> {
    const res = await agent.request(path, { method: 'POST', form: { _csrf: await csrf(agent), ...fields } });
    return { status: res.status, url: path, body: await res.text(), headers: res.headers };
  }
  const roleOf = async (orgId: string, accountId: string) => (await orgs().membership(orgId, accountId))?.role;
  const activity = async (accountId: string, type: string) =>
    (await srv.deps.repos.activity.list(accountId, { types: [type] }, { limit: 10, offset: 0 })).map(
      (r) => r.details as Record<string, string>,
    );
  const base = (orgId: string) => `/account/organizations/${orgId}`;

  it('org.collaborator-cannot-manage-members: a collaborator cannot open the member list or a member page, their role changes and removals are refused, and nothing changes', async () => {
    const [alice, carol, dave] = [await user(), await user(), await user()];
    const org = await organization(alice, [
      [carol, 'collaborator'],
      [dave, 'external'],
    ]);
    const list = await carol.agent.go(`${base(org.id)}/members`);
    expect(list.status).toBe(403);
    expect(list.body).not.toContain(dave.email);
    const page = await carol.agent.go(`${base(org.id)}/members/${dave.account.id}`);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain(dave.email);

    for (const [target, role] of [
      [dave, 'administrator'],
      [carol, 'administrator'],
      [alice, 'collaborator'],
    ] as const) {
      const res = await post(carol.agent, `${base(org.id)}/members/${target.account.id}/role`, { role });
      expect(res.status).toBe(403);
      expect(res.body).not.toContain(target.email);
    }
    const removed = await post(carol.agent, `${base(org.id)}/members/${dave.account.id}/remove`, {
      confirm: 'yes',
      email: carol.email,
    });
    expect(removed.status).toBe(403);
    expect(await roleOf(org.id, dave.account.id)).toBe('external');
    expect(await roleOf(org.id, carol.account.id)).toBe('collaborator');
    expect(await roleOf(org.id, alice.account.id)).toBe('legal_representative');
    expect(srv.outbox().filter((m) => m.to === dave.email && m.kind.startsWith('org_'))).toEqual([]);
    // Nor may a collaborator edit or delete the organization.
    expect((await post(carol.agent, `${base(org.id)}/edit`, { name: 'Taken over', type: 'company' })).status).toBe(403);
    expect((await post(carol.agent, `${base(org.id)}/delete`, { confirm: 'yes' })).status).toBe(403);
    expect((await orgs().findById(org.id))?.name).toBe('Acme');
  });

  it('org.external-cannot-list-members: an external user gets 403 on the member list and on a member page', async () => {
    const [alice, dave] = [await user(), await user()];
    const org = await organization(alice, [[dave, 'external']]);
    const overview = await dave.agent.go(base(org.id));
    expect(overview.status).toBe(200);
    expect(overview.body).not.toContain(`${base(org.id)}/members"`);
    expect((await dave.agent.go(`${base(org.id)}/members`)).status).toBe(403);
    expect((await dave.agent.go(`${base(org.id)}/members?q=${encodeURIComponent(alice.email)}`)).status).toBe(403);
    const page = await dave.agent.go(`${base(org.id)}/members/${alice.account.id}`);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain(alice.email);
    expect((await dave.agent.go(`${base(org.id)}/members/${dave.account.id}`)).status).toBe(403);
    // Nor act on a member through the forms.
    const role = await post(dave.agent, `${base(org.id)}/members/${alice.account.id}/role`, { role: 'external' });
    expect(role.status).toBe(403);
    expect(role.body).not.toContain(alice.email);
    const removed = await post(dave.agent, `${base(org.id)}/members/${alice.account.id}/remove`, {
      confirm: 'yes',
      email: dave.email,
    });
    expect(removed.status).toBe(403);
    expect(await roleOf(org.id, alice.account.id)).toBe('legal_representative');
  });

  it('org.admin-cannot-grant-legal-rep: an administrator cannot make anyone legal representative, himself included, nor demote one', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const org = await organization(alice, [
      [bob, 'administrator'],
      [carol, 'collaborator'],
    ]);
    const page = await bob.agent.go(`${base(org.id)}/members/${carol.account.id}`);
    expect(page.status).toBe(200);
    const offered = [...page.body.matchAll(/<option value="(\w+)"/g)].map((m) => m[1]);
    expect(offered).not.toContain('legal_representative');
    expect(offered).toEqual(expect.arrayContaining(['administrator', 'external']));
    // No form at all on the legal representative's page.
    expect((await bob.agent.go(`${base(org.id)}/members/${alice.account.id}`)).body).not.toContain('/role"');

    const attempts = [
      [carol, 'legal_representative'],
      [bob, 'legal_representative'],
      [alice, 'administrator'],
      [alice, 'collaborator'],
    ] as const;
    for (const [target, role] of attempts) {
      const res = await post(bob.agent, `${base(org.id)}/members/${target.account.id}/role`, { role });
      expect(res.status).toBe(403);
    }
    // Nor remove the legal representative.
    const removed = await post(bob.agent, `${base(org.id)}/members/${alice.account.id}/remove`, {
      confirm: 'yes',
      email: bob.email,
    });
    expect(removed.status).toBe(403);
    expect([
      await roleOf(org.id, alice.account.id),
      await roleOf(org.id, bob.account.id),
      await roleOf(org.id, carol.account.id),
    ]).toEqual(['legal_representative', 'administrator', 'collaborator']);
    // What an administrator may do, he can: the page's own form.
    const done = await bob.agent.submit(page, { role: 'external' }, '/role"');
    expect(done.status).toBe(200);
    expect(done.body).toContain('id="done"');
    expect(await roleOf(org.id, carol.account.id)).toBe('external');
  });

  it('org.last-legal-rep-cannot-leave: nor be demoted or removed; two legal representatives leaving at once leave one', async () => {
    const [alice, eve] = [await user(), await user()];
    const org = await organization(alice);
    const left = await post(alice.agent, `${base(org.id)}/leave`, { confirm: 'yes' });
    expect(left.status).toBe(409);
    expect(left.body).toContain('id="error"');
    const demoted = await post(alice.agent, `${base(org.id)}/members/${alice.account.id}/role`, {
      role: 'administrator',
    });
    expect(demoted.status).toBe(409);
    // Removing oneself is leaving (refused here too), not a removal.
    const removed = await post(alice.agent, `${base(org.id)}/members/${alice.account.id}/remove`, {
      confirm: 'yes',
      email: alice.email,
    });
    expect(removed.status).toBe(403);
    expect(await roleOf(org.id, alice.account.id)).toBe('legal_representative');
    // The overview says so instead of offering the form.
    expect((await alice.agent.go(base(org.id))).body).toContain('id="leave-last"');

    // Two legal representatives leaving at once: one of them stays, in every round.
    await orgs().addMember(org.id, eve.account.id, 'legal_representative');
    const rounds = [org.id];
    for (let i = 0; i < 3; i++) {
      const o = await organization(alice, [[eve, 'legal_representative']], `Twin ${i}`);
      rounds.push(o.id);
    }
    const tokens = [await csrf(alice.agent), await csrf(eve.agent)];
    const leave = (agent: Agent, token: string, orgId: string) =>
      agent.request(`${base(orgId)}/leave`, { method: 'POST', form: { _csrf: token, confirm: 'yes' } });
    const results = await Promise.all(
      rounds.map(async (orgId) => {
        const statuses = (
          await Promise.all([leave(alice.agent, tokens[0]!, orgId), leave(eve.agent, tokens[1]!, orgId)])
        ).map((r) => r.status);
        const members = await orgs().members(orgId);
        return { statuses: statuses.sort(), legalReps: members.filter((m) => m.role === 'legal_representative') };
      }),
    );
    for (const r of results) {
      expect(r.statuses).toEqual([303, 409]);
      expect(r.legalReps).toHaveLength(1);
    }
  });

  it('org.other-org-ids: an organization one is not in, or a member of another organization, in URLs and forms is not found and nothing changes', async () => {
    const [alice, mallory, victim] = [await user(), await user(), await user()];
    const acme = await organization(alice, [], 'Acme');
    const other = await organization(mallory, [[victim, 'collaborator']], 'Other');
    const pages = [
      base(other.id),
      `${base(other.id)}/members`,
      `${base(other.id)}/members/${victim.account.id}`,
      `${base(acme.id)}/members/${victim.account.id}`,
      `${base(acme.id)}/members/${mallory.account.id}`,
      `${base(acme.id)}/members/not-a-uuid`,
      `${base('not-a-uuid')}`,
      `${base('00000000-0000-4000-8000-000000000001')}/members`,
    ];
    for (const path of pages) expect([path, (await alice.agent.go(path)).status]).toEqual([path, 404]);
    const forms: Array<[string, Record<string, string>]> = [
      [`${base(other.id)}/edit`, { name: 'Owned', type: 'company' }],
      [`${base(other.id)}/delete`, { confirm: 'yes' }],
      [`${base(other.id)}/leave`, { confirm: 'yes' }],
      [`${base(other.id)}/members/${victim.account.id}/role`, { role: 'external' }],
      [`${base(other.id)}/members/${victim.account.id}/remove`, { confirm: 'yes', email: alice.email }],
      [`${base(acme.id)}/members/${victim.account.id}/role`, { role: 'external' }],
      [`${base(acme.id)}/members/${victim.account.id}/remove`, { confirm: 'yes', email: alice.email }],
      [`${base(acme.id)}/members/${mallory.account.id}/role`, { role: 'administrator' }],
    ];
    for (const [path, fields] of forms)
      expect([path, (await post(alice.agent, path, fields)).status]).toEqual([path, 404]);
    expect((await orgs().findById(other.id))?.name).toBe('Other');
    expect(await roleOf(other.id, victim.account.id)).toBe('collaborator');
    expect(await roleOf(other.id, mallory.account.id)).toBe('legal_representative');
    expect(await roleOf(acme.id, victim.account.id)).toBeUndefined();
    expect(srv.outbox().filter((m) => m.to === victim.email && m.kind.startsWith('org_'))).toEqual([]);
  });

  it('a role change emails the member a summary in their language and is logged in both activities', async () => {
    const alice = await user();
    const carol = await user({ locale: 'de', givenName: 'Carola' });
    const org = await organization(alice, [[carol, 'collaborator']], 'Werkstatt');
    const page = await alice.agent.go(`${base(org.id)}/members/${carol.account.id}`);
    const done = await alice.agent.submit(page, { role: 'administrator' }, '/role"');
    expect(done.status).toBe(200);
    expect(await roleOf(org.id, carol.account.id)).toBe('administrator');
    const mails = srv.outbox().filter((m) => m.to === carol.email && m.kind === 'org_role_changed');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Ihre Rolle in Werkstatt wurde geändert');
    expect(mails[0]!.text).toContain('von Mitarbeiter zu Administrator');
    expect(mails[0]!.text).toContain(alice.email);
    expect(mails[0]!.text).toContain('Carola');
    expect(mails[0]!.text).toContain(`/account/organizations/${org.id}`);
    expect(await activity(carol.account.id, 'org_role_changed')).toEqual([
      { organization: 'Werkstatt', organizationId: org.id, by: alice.email, from: 'collaborator', to: 'administrator' },
    ]);
    expect(await activity(alice.account.id, 'org_role_changed')).toEqual([
      {
        organization: 'Werkstatt',
        organizationId: org.id,
        member: carol.email,
        from: 'collaborator',
        to: 'administrator',
      },
    ]);
    // The member's activity page shows it, in German.
    const log = await carol.agent.go('/account/activity');
    expect(log.body).toContain('Werkstatt · ' + alice.email + ' · Administrator');
  });

  it("removing a member (confirmed by typing one's own email) revokes their refresh token for the organization's application", async () => {
    const [alice, carol] = [await user(), await user()];
    const org = await organization(alice, [[carol, 'collaborator']], 'Shop');
    const { app, clientSecret } = await srv.deps.applications.create(
      alice.account.id,
      {
        name: 'Shop site',
        type: 'web',
        redirectUris: ['https://shop.example/cb'],
        postLogoutRedirectUris: [],
      },
      org.id,
    );
    const client = { clientId: app.clientId, redirectUri: 'https://shop.example/cb' };
    const token = (form: Record<string, string>) =>
      fetch(`${srv.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: app.clientId, client_secret: clientSecret!, ...form }),
      });
    const { code } = await authorize(new Agent(srv.url), {
      ...client,
      email: carol.email,
      password: carol.password,
      scope: 'openid offline_access',
    });
    const tok = (await (
      await token({ grant_type: 'authorization_code', code: code!, redirect_uri: client.redirectUri })
    ).json()) as { refresh_token: string };
    expect(tok.refresh_token).toBeTruthy();

    // Typing someone else's email (here the member's) is refused, the form shown again with it.
    const page = await alice.agent.go(`${base(org.id)}/members/${carol.account.id}`);
    const wrong = await alice.agent.submit(page, { confirm: 'yes', email: carol.email }, '/remove"');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('id="error"');
    expect(wrong.body).toContain(`value="${carol.email}"`);
    const unticked = await alice.agent.submit(page, { email: alice.email }, '/remove"');
    expect(unticked.status).toBe(400);
    expect(await roleOf(org.id, carol.account.id)).toBe('collaborator');

    const removed = await alice.agent.submit(page, { confirm: 'yes', email: alice.email.toUpperCase() }, '/remove"');
    expect(removed.status).toBe(200);
    expect(removed.url).toContain(`${base(org.id)}/members`);
    expect(removed.body).not.toContain(carol.email);
    expect(await roleOf(org.id, carol.account.id)).toBeUndefined();
    expect((await token({ grant_type: 'refresh_token', refresh_token: tok.refresh_token })).status).toBe(400);
    expect(srv.outbox().filter((m) => m.to === carol.email && m.kind === 'org_member_removed')).toHaveLength(1);
    expect(await activity(carol.account.id, 'org_member_removed')).toEqual([
      expect.objectContaining({ organizationId: org.id, by: alice.email }),
    ]);
    expect(await activity(alice.account.id, 'org_member_removed')).toEqual([
      expect.objectContaining({ organizationId: org.id, member: carol.email }),
    ]);
    // Carol keeps her account and an organization.
    expect((await carol.agent.go('/account/organizations')).status).toBe(200);
    expect(await orgs().listForAccount(carol.account.id)).toHaveLength(1);
  });

  it('a member removed from their only organization gets a personal one: every account stays in an organization', async () => {
    const [alice, carol] = [await user(), await user({ givenName: 'Carol', familyName: 'Solo' })];
    const org = await organization(alice, [[carol, 'external']], 'Only');
    const personal = (await orgs().personalOf(carol.account.id))!;
    expect((await post(carol.agent, `${base(personal.id)}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect(await orgs().listForAccount(carol.account.id)).toHaveLength(1);
    const removed = await post(alice.agent, `${base(org.id)}/members/${carol.account.id}/remove`, {
      confirm: 'yes',
      email: alice.email,
    });
    expect(removed.status).toBe(303);
    const left = await orgs().listForAccount(carol.account.id);
    expect(left.map((r) => [r.organization.name, r.organization.type, r.membership.role])).toEqual([
      ['Carol Solo', 'personal', 'legal_representative'],
    ]);
  });

  it('the members list shows 2FA, last sign-in, blocked and locked, and filters and searches them; a bad filter is a 400 with a field message', async () => {
    const alice = await user({ name: 'Alice Leader' });
    const bob = await user({ name: 'Bob Secure' });
    const carol = await user({ name: 'Carol Locked' });
    const dave = await createUser(srv, { name: 'Dave Blocked' });
    const org = await organization(alice, [
      [bob, 'administrator'],
      [carol, 'collaborator'],
      [{ ...dave, agent: new Agent(srv.url) }, 'external'],
    ]);
    await srv.deps.repos.secondFactors.create({ accountId: bob.account.id, type: 'totp', name: 'Phone', secret: 'x' });
    await srv.deps.repos.accounts.lock(carol.account.id);
    await srv.deps.database.db.execute(
      sql`UPDATE memberships SET blocked_at = now() WHERE organization_id = ${org.id} AND account_id = ${dave.account.id}`,
    );
    const rows = async (query = '') => {
      const page = await alice.agent.go(`${base(org.id)}/members${query}`);
      expect(page.status).toBe(200);
      return [...page.body.matchAll(/<tr data-member="([^"]+)" data-twofa="(on|off)"/g)].map((m) => ({
        id: m[1]!,
        twofa: m[2]!,
      }));
    };
    const ids = (list: { id: string }[]) => list.map((r) => r.id).sort();
    const all = await rows();
    expect(ids(all)).toEqual(ids([alice, bob, carol, dave].map((u) => ({ id: u.account.id }))));
    expect(all.find((r) => r.id === bob.account.id)!.twofa).toBe('on');
    expect(all.filter((r) => r.twofa === 'off')).toHaveLength(3);
    const page = await alice.agent.go(`${base(org.id)}/members`);
    expect([...page.body.matchAll(/class="no-2fa"/g)]).toHaveLength(3);
    // Signed in (alice, bob, carol) or never (dave).
    const daveRow = page.body.slice(page.body.indexOf(`data-member="${dave.account.id}"`)).split('</tr>')[0]!;
    expect(daveRow).toContain('Never');
    expect(daveRow).toContain('data-state="blocked"');
    const carolRow = page.body.slice(page.body.indexOf(`data-member="${carol.account.id}"`)).split('</tr>')[0]!;
    expect(carolRow).not.toContain('Never');
    expect(carolRow).toContain('data-state="locked"');

    expect(ids(await rows('?twofa=on'))).toEqual([bob.account.id]);
    expect(ids(await rows('?twofa=off'))).toEqual(ids([alice, carol, dave].map((u) => ({ id: u.account.id }))));
    expect(ids(await rows('?state=locked'))).toEqual([carol.account.id]);
    expect(ids(await rows('?state=blocked'))).toEqual([dave.account.id]);
    expect(ids(await rows('?role=external'))).toEqual([dave.account.id]);
    expect(ids(await rows('?role=administrator&twofa=on'))).toEqual([bob.account.id]);
    expect(ids(await rows('?role=administrator&twofa=off'))).toEqual([]);
    expect(ids(await rows(`?q=${encodeURIComponent(carol.email.slice(0, 12).toUpperCase())}`))).toEqual([
      carol.account.id,
    ]);
    expect(ids(await rows('?q=secure'))).toEqual([bob.account.id]);
    expect(ids(await rows('?q=100%25'))).toEqual([]);
    expect(ids(await rows('?q=&role=&twofa=&state='))).toHaveLength(4);

    for (const [query, field] of [
      ['?role=boss', 'role'],
      ['?twofa=maybe', 'twofa'],
      ['?state=asleep', 'state'],
      ['?q=a&q=b', 'q'],
      [`?q=${'x'.repeat(300)}`, 'q'],
    ] as const) {
      const bad = await alice.agent.go(`${base(org.id)}/members${query}`);
      expect([query, bad.status]).toEqual([query, 400]);
      expect(bad.body).toContain(`id="${field}-error"`);
    }
  });

  it('account deletion is refused while the account is the last legal representative of an organization with members, and allowed after', async () => {
    const [alice, bob] = [await user(), await user()];
    const org = await organization(alice, [[bob, 'administrator']], 'Living');
    const { app } = await srv.deps.applications.create(
      alice.account.id,
      { name: 'Living site', type: 'web', redirectUris: ['https://living.example/cb'], postLogoutRedirectUris: [] },
      org.id,
    );
    const page = await alice.agent.go('/account/profile/delete');
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="stranded"');
    expect(page.body).toContain('Living');
    expect(page.body).toContain(`/account/organizations/${org.id}/members`);
    const refused = await alice.agent.submit(page, { password: alice.password, confirm: 'yes' }, '/delete');
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('id="stranded"');
    expect(await srv.deps.repos.accounts.findById(alice.account.id)).toBeTruthy();

    // Bob made legal representative: Alice may go, the organization and its application stay.
    const member = await alice.agent.go(`${base(org.id)}/members/${bob.account.id}`);
    expect((await alice.agent.submit(member, { role: 'legal_representative' }, '/role"')).status).toBe(200);
    const again = await alice.agent.go('/account/profile/delete');
    expect(again.body).not.toContain('id="stranded"');
    const deleted = await alice.agent.submit(again, { password: alice.password, confirm: 'yes' }, '/delete');
    expect(deleted.url).toBe(`${srv.url}/?deleted=1`);
    expect(await srv.deps.repos.accounts.findById(alice.account.id)).toBeUndefined();
    expect(await roleOf(org.id, bob.account.id)).toBe('legal_representative');
    const kept = await srv.deps.repos.applications.findByClientId(app.clientId);
    expect(kept?.organizationId).toBe(org.id);
    expect(kept?.ownerId).toBeNull();
  });

  it('an organization is created (current, its creator legal representative), edited, refused deletion while not empty or the only one, then deleted', async () => {
    const [alice, bob] = [await user(), await user()];
    const list = await alice.agent.go('/account/organizations');
    expect(list.body).toContain('id="new-organization"');
    const form = await alice.agent.go('/account/organizations/new');
    const badPhone = await alice.agent.submit(form, { name: 'Beta', type: 'association', phone: '12' }, '/new"');
    expect(badPhone.status).toBe(400);
    expect(badPhone.body).toContain('id="phone-error"');
    expect(badPhone.body).toContain('value="Beta"');
    const created = await alice.agent.submit(
      form,
      {
        name: 'Beta',
        type: 'association',
        address: 'Rue du Lac 1\n1000 Lausanne',
        country: 'CH',
        phone: '021 345 67 89',
      },
      '/new"',
    );
    expect(created.status).toBe(200);
    const orgId = /\/account\/organizations\/([0-9a-f-]{36})/.exec(created.url)![1]!;
    const org = (await orgs().findById(orgId))!;
    expect(org).toMatchObject({ name: 'Beta', type: 'association', phone: '+41213456789' });
    expect(await roleOf(orgId, alice.account.id)).toBe('legal_representative');
    expect((await srv.deps.repos.accounts.findById(alice.account.id))?.currentOrganizationId).toBe(orgId);
    expect(await activity(alice.account.id, 'org_created')).toEqual([{ organization: 'Beta', organizationId: orgId }]);
    expect(created.body).toContain('+41 21 345 67 89');

    // An administrator edits it.
    await orgs().addMember(orgId, bob.account.id, 'administrator');
    const overview = await bob.agent.go(base(orgId));
    expect(overview.body).not.toContain('/delete"');
    const edited = await bob.agent.submit(overview, { name: 'Beta Club', type: 'association', phone: '' }, '/edit"');
    expect(edited.status).toBe(200);
    expect(await orgs().findById(orgId)).toMatchObject({ name: 'Beta Club', phone: null });
    expect(await activity(bob.account.id, 'org_updated')).toHaveLength(1);
    expect((await post(bob.agent, `${base(orgId)}/delete`, { confirm: 'yes' })).status).toBe(403);

    // Not while Bob is in it; then yes. Never one's only organization.
    const notEmpty = await post(alice.agent, `${base(orgId)}/delete`, { confirm: 'yes' });
    expect(notEmpty.status).toBe(409);
    expect(notEmpty.body).toContain('id="delete-not-empty"');
    const bobLeaves = await bob.agent.submit(await bob.agent.go(base(orgId)), { confirm: 'yes' }, '/leave"');
    expect(bobLeaves.url).toBe(`${srv.url}/account/organizations?done=left`);
    expect(await activity(bob.account.id, 'org_left')).toHaveLength(1);
    const page = await alice.agent.go(base(orgId));
    expect((await alice.agent.submit(page, {}, '/delete"')).status).toBe(400);
    const gone = await alice.agent.submit(page, { confirm: 'yes' }, '/delete"');
    expect(gone.url).toBe(`${srv.url}/account/organizations?done=deleted`);
    expect(await orgs().findById(orgId)).toBeUndefined();
    expect(await activity(alice.account.id, 'org_deleted')).toEqual([
      { organization: 'Beta Club', organizationId: orgId },
    ]);
    expect(await srv.deps.repos.accounts.findById(bob.account.id)).toBeTruthy();

    const personal = (await orgs().personalOf(alice.account.id))!;
    expect((await alice.agent.go(base(personal.id))).body).toContain('id="delete-only"');
    expect((await post(alice.agent, `${base(personal.id)}/delete`, { confirm: 'yes' })).status).toBe(409);
    expect(await orgs().findById(personal.id)).toBeTruthy();
    // Leaving one's only organization is refused too (a second legal representative lets the rule show).
    await orgs().addMember(personal.id, bob.account.id, 'legal_representative');
    const onlyLeave = await post(alice.agent, `${base(personal.id)}/leave`, { confirm: 'yes' });
    expect(onlyLeave.status).toBe(409);
    expect(await roleOf(personal.id, alice.account.id)).toBe('legal_representative');
  });

  it('every organization page exists in the five languages', async () => {
    const alice = await user({ locale: 'fr' });
    const org = await organization(alice, [], 'Lingua');
    for (const locale of ['en', 'fr', 'de', 'it', 'es']) {
      await srv.deps.repos.accounts.update(alice.account.id, { locale });
      for (const path of [
        '/account/organizations',
        '/account/organizations/new',
        base(org.id),
        `${base(org.id)}/members`,
        `${base(org.id)}/members/${alice.account.id}`,
        '/account/profile/delete',
      ]) {
        const page = await alice.agent.go(path);
        expect([path, locale, page.status]).toEqual([path, locale, 200]);
        expect(page.body).not.toMatch(/orgPages\.|org\.roles\.|org\.types\./);
      }
    }
  });

  it('org.blocked-legal-rep-keeps-nobody-in-charge: a blocked legal representative does not count, so the last one who can act can neither leave nor be demoted', async () => {
    const [l1, l2, admin] = [await user(), await user(), await user()];
    const org = await organization(l1, [
      [l2, 'legal_representative'],
      [admin, 'administrator'],
    ]);
    expect((await post(l1.agent, `${base(org.id)}/members/${l2.account.id}/block`)).status).toBe(303);
    const left = await post(l1.agent, `${base(org.id)}/leave`, { confirm: 'yes' });
    expect(left.status).toBe(409);
    expect(left.body).toContain('An organization always needs a legal representative');
    const demoted = await post(l1.agent, `${base(org.id)}/members/${l1.account.id}/role`, { role: 'administrator' });
    expect(demoted.status).toBe(409);
    expect(await roleOf(org.id, l1.account.id)).toBe('legal_representative');
    // Nor may the other one (unblocked later) be blocked while she is the only one who can act.
    expect((await post(l1.agent, `${base(org.id)}/members/${l2.account.id}/unblock`)).status).toBe(303);
    expect((await orgs().membership(org.id, l2.account.id))?.blockedAt).toBeNull();
  });

  it.runIf(mode === 'postgres')(
    'org.parallel-blocks-keep-a-legal-rep: two legal representatives blocking each other at once never both end blocked',
    async () => {
      for (let round = 0; round < 4; round++) {
        const [l1, l2, admin] = [await user(), await user(), await user()];
        const org = await organization(l1, [
          [l2, 'legal_representative'],
          [admin, 'administrator'],
        ]);
        const [a, b] = await Promise.all([
          post(l1.agent, `${base(org.id)}/members/${l2.account.id}/block`),
          post(l2.agent, `${base(org.id)}/members/${l1.account.id}/block`),
        ]);
        const blocked = [
          (await orgs().membership(org.id, l1.account.id))?.blockedAt,
          (await orgs().membership(org.id, l2.account.id))?.blockedAt,
        ].filter(Boolean);
        expect(blocked.length, `round ${round}: ${a.status} ${b.status}`).toBe(1);
        expect([a.status, b.status].sort()).toEqual([303, 403]);
      }
    },
  );

  it.runIf(mode === 'postgres')(
    'org.parallel-account-deletions-keep-a-legal-rep: two legal representatives deleting their accounts at once cannot both go',
    async () => {
      const [l1, l2, carol] = [await user(), await user(), await user()];
      const org = await organization(l1, [
        [l2, 'legal_representative'],
        [carol, 'collaborator'],
      ]);
      const remove = async (u: User) => {
        const page = await u.agent.go('/account/profile/delete');
        return u.agent.submit(page, { password: u.password, confirm: 'yes' }, '/delete');
      };
      const results = await Promise.all([remove(l1), remove(l2)]);
      const left = (await orgs().members(org.id)).filter((m) => m.role === 'legal_representative');
      expect(left, results.map((r) => r.status).join(' ')).toHaveLength(1);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    },
  );

  it('org.invitation-void-when-inviter-blocked: an invitation is good only while its sender may still invite to that role', async () => {
    const [l1, mallory] = [await user(), await user()];
    const org = await organization(l1, [[mallory, 'legal_representative']]);
    const invited = `alt-${mallory.email}`;
    const page = await mallory.agent.go(`${base(org.id)}/invitations`);
    const sent = await mallory.agent.submit(page, { email: invited, role: 'legal_representative' }, '/invitations"');
    expect(sent.status).toBe(200);
    await srv.drained();
    const link = srv
      .outbox()
      .filter((m) => m.to === invited)
      .at(-1)!
      .text.match(/http\S+\/invitation\/[\w-]+/)![0];
    expect((await new Agent(srv.url).go(link)).status).toBe(200);
    expect((await post(l1.agent, `${base(org.id)}/members/${mallory.account.id}/block`)).status).toBe(303);
    const after = await new Agent(srv.url).go(link);
    expect(after.status).toBe(400);
    const signup = await new Agent(srv.url).go(`${link}/signup`);
    expect(signup.status).toBe(400);
  });
});
