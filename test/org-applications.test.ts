// Applications owned by organizations, over HTTP: who sees and changes which application on the
// Applications pages (the current organization, the role, grants to members and teams), the access
// page, the sign-in refusals relying parties get back (members only, blocked members) and the
// `organizations` claim.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize, findForm, type Page } from './helpers/agent.ts';
import { redeem, signInToAccount } from './helpers/mfa.ts';
import type { Role } from '../src/db/schema.ts';

type User = Awaited<ReturnType<typeof createUser>>;
type Client = { clientId: string; clientSecret: string; redirectUri: string; id: string; name: string };

describe.each(primaryStorageMode())('organization applications (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const db = () => srv.deps.database.db;
  const rows = async <T>(q: ReturnType<typeof sql>) => ((await db().execute(q)) as unknown as { rows: T[] }).rows;

  /** An organization with `founder` as legal representative and the others with their roles. */
  async function organization(name: string, founder: User, members: Array<[User, Role]> = []) {
    const org = await srv.deps.repos.organizations.create({ name, type: 'company' }, founder.account.id);
    for (const [u, role] of members) await srv.deps.repos.organizations.addMember(org.id, u.account.id, role);
    return org;
  }
  /** A web application of `orgId`, registered by `owner`. */
  async function orgApp(orgId: string, owner: User | null, name: string, membersOnly = false): Promise<Client> {
    const redirectUri = `https://${name.toLowerCase().replace(/\W+/g, '-')}.example/cb`;
    const { app, clientSecret } = await srv.deps.applications.create(
      owner?.account.id ?? null,
      { name, type: 'web', redirectUris: [redirectUri], postLogoutRedirectUris: [] },
      orgId,
    );
    if (membersOnly) await db().execute(sql`UPDATE applications SET members_only = true WHERE id = ${app.id}`);
    return { clientId: app.clientId, clientSecret: clientSecret!, redirectUri, id: app.id, name };
  }
  const block = (orgId: string, u: User, blocked = true) =>
    db().execute(
      sql`UPDATE memberships SET blocked_at = ${blocked ? sql`now()` : null}
          WHERE organization_id = ${orgId} AND account_id = ${u.account.id}`,
    );
  async function team(orgId: string, name: string, members: User[]) {
    const id = crypto.randomUUID();
    await db().execute(sql`INSERT INTO teams (id, organization_id, name) VALUES (${id}, ${orgId}, ${name})`);
    for (const u of members)
      await db().execute(
        sql`INSERT INTO team_members (team_id, organization_id, account_id) VALUES (${id}, ${orgId}, ${u.account.id})`,
      );
    return id;
  }
  /** Signed in to the account pages in a fresh browser, at the Applications page. */
  async function pages(u: User): Promise<Agent> {
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, u.email, u.password, '/account/applications');
    return agent;
  }
  /** Chooses the current organization with the switcher every account page carries. */
  async function switchTo(agent: Agent, orgId: string) {
    const page = await agent.go('/account/applications');
    const done = await agent.submit(page, { organization_id: orgId }, '/account/organizations/switch');
    expect(done.status).toBe(200);
  }
  const csrfOf = (page: Page) => page.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
  /** A POST with the page's form token, whatever form the page has (or not). */
  async function post(agent: Agent, path: string, form: Record<string, string> = {}) {
    const csrf = csrfOf(await agent.go('/account/applications'));
    return agent.go(path, { method: 'POST', form: { _csrf: csrf, ...form } });
  }
  const listed = (page: Page) =>
    [...page.body.matchAll(/href="\/account\/applications\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
  const state = () => crypto.randomBytes(6).toString('hex');

  /** A sign-in at the relying party `client` in `agent` (a fresh browser signs in; one with a
   *  session goes straight through): where the browser lands back at the relying party. */
  async function signInAt(agent: Agent, client: Client, u: User, extra: Record<string, string> = {}) {
    const s = state();
    const { redirect, code } = await authorize(agent, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      email: u.email,
      password: u.password,
      scope: 'openid',
      extra: { state: s, ...extra },
    });
    expect(redirect.origin + redirect.pathname).toBe(client.redirectUri);
    expect(redirect.searchParams.get('state')).toBe(s);
    return { code, error: redirect.searchParams.get('error'), redirect };
  }
  /** The relying party's answer was a refusal: access_denied with its state, and no code. */
  function refused(r: { code: string | null; error: string | null }) {
    expect(r.error).toBe('access_denied');
    expect(r.code).toBeNull();
  }
  async function admitted(client: Client, r: { code: string | null; error: string | null }) {
    expect(r.error).toBeNull();
    expect(r.code).toBeTruthy();
    return (await redeem(srv, client, r.code!)) as { refresh_token?: string };
  }
  /** The status of a refresh at /token. */
  async function refresh(client: Client, refreshToken: string) {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    return { status: res.status, body: (await res.json()) as { refresh_token?: string; error?: string } };
  }

  it('org.members-only-app-refuses-outsider: an outsider gets access_denied back at the relying party, a member a code; switched off, the outsider gets in', async () => {
    const [alice, bob, carol] = [await createUser(srv), await createUser(srv), await createUser(srv)];
    const acme = await organization('Acme', alice, [[bob, 'collaborator']]);
    const intranet = await orgApp(acme.id, alice, 'Intranet', true);

    // Carol is no member: refused after signing in, before any consent page.
    const carolBrowser = new Agent(srv.url);
    refused(await signInAt(carolBrowser, intranet, carol));
    // Her browser now has a session: asked again (with prompt=none too), still refused, not asked to sign in.
    refused(await signInAt(carolBrowser, intranet, carol));
    refused(await signInAt(carolBrowser, intranet, carol, { prompt: 'none' }));
    // A member gets a code, and the code a token.
    const member = await admitted(intranet, await signInAt(new Agent(srv.url), intranet, bob));

    // Alice switches members-only off on the access page: Carol's same browser gets in at once.
    const admin = await pages(alice);
    await switchTo(admin, acme.id);
    const access = await admin.go(`/account/applications/${intranet.id}/access`);
    expect(access.status).toBe(200);
    expect(access.body).toMatch(/id="members_only"[^>]*checked/);
    const off = await admin.submit(access, {}, '/access/members-only');
    expect(off.url).toContain('done=members_only_off');
    expect(off.body).not.toMatch(/id="members_only"[^>]*checked/);
    const outsider = await admitted(intranet, await signInAt(carolBrowser, intranet, carol));
    // …and on again: refused again, with no restart and no wait for a cache; the tokens she got
    // meanwhile stop working, the member's keep going.
    await admin.submit(
      await admin.go(`/account/applications/${intranet.id}/access`),
      { members_only: 'on' },
      '/access/members-only',
    );
    refused(await signInAt(carolBrowser, intranet, carol));
    expect(await refresh(intranet, outsider.refresh_token!)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await refresh(intranet, member.refresh_token!)).status).toBe(200);
    const log = await rows<{ type: string; details: Record<string, unknown> }>(
      sql`SELECT type, details FROM activity WHERE account_id = ${alice.account.id} AND type = 'app_members_only_changed' ORDER BY at`,
    );
    expect(log.map((r) => r.details.membersOnly)).toEqual([false, true]);
    expect(log[0]!.details.organization).toBe('Acme');
  });

  it('org.blocked-member-refused-at-sign-in: blocked, refused at every application of the organization (fresh sign-in or existing session); other organizations still work; unblocked, works again', async () => {
    const [alice, bob, dora] = [await createUser(srv), await createUser(srv), await createUser(srv)];
    const acme = await organization('Acme', alice, [[bob, 'collaborator']]);
    const open = await orgApp(acme.id, alice, 'Acme shop');
    const closed = await orgApp(acme.id, alice, 'Acme intranet', true);
    const elsewhere = await orgApp((await organization('Elsewhere', dora)).id, dora, 'Elsewhere blog');
    const operator = { ...(await createClient(srv, { type: 'web' })), id: '', name: 'Operator site' };

    // A session from before the block.
    const browser = new Agent(srv.url);
    await admitted(open, await signInAt(browser, open, bob));
    await block(acme.id, bob);
    for (const client of [open, closed]) {
      refused(await signInAt(browser, client, bob));
      refused(await signInAt(browser, client, bob, { prompt: 'none' }));
      refused(await signInAt(new Agent(srv.url), client, bob));
    }
    // The same browser still signs in to another organization's application and the operator's.
    await admitted(elsewhere, await signInAt(browser, elsewhere, bob));
    await admitted(operator, await signInAt(browser, operator, bob));
    // The Applications page in Acme shows nothing to a blocked member.
    const bobPages = await pages(bob);
    await switchTo(bobPages, acme.id);
    const list = await bobPages.go('/account/applications');
    expect(list.body).toContain('id="org-blocked"');
    expect(listed(list)).toEqual([]);
    expect((await bobPages.go(`/account/applications/${open.id}`)).status).toBe(404);

    await block(acme.id, bob, false);
    await admitted(open, await signInAt(browser, open, bob));
    await admitted(closed, await signInAt(new Agent(srv.url), closed, bob));
  });

  it('org.organizations-claim: the organizations scope releases id, name and role of each organization the user is not blocked in, in the ID token and userinfo; nothing without it', async () => {
    const [alice, bob] = [
      await createUser(srv),
      await createUser(srv, { name: 'Bob Builder', givenName: 'Bob', familyName: 'Builder' }),
    ];
    const acme = await organization('Acme', alice, [[bob, 'collaborator']]);
    const partner = await organization('Partner', alice, [[bob, 'external']]);
    const gone = await organization('Blocked Inc', alice, [[bob, 'administrator']]);
    await block(gone.id, bob);
    const personal = (await srv.deps.repos.organizations.personalOf(bob.account.id))!;
    const web = await createClient(srv, { type: 'web' });

    const d = (await (await fetch(`${srv.url}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(d.scopes_supported).toContain('organizations');
    expect(d.claims_supported).toContain('organizations');

    // The consent page says in plain words what the scope gives.
    const agent = new Agent(srv.url);
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid organizations',
      state: 'st',
    });
    const login = await agent.go(`/authorize?${q}`);
    const consent = await agent.submit(login, { email: bob.email, password: bob.password }, '/login');
    expect(consent.body).toContain('See the organizations you belong to and your role in each');
    const back = await agent.submit(consent, {}, '/confirm"');
    const { id_token, access_token } = await redeem(srv, web, new URL(back.url).searchParams.get('code')!);
    const expected = [
      { id: personal.id, name: personal.name, role: 'legal_representative' },
      { id: acme.id, name: 'Acme', role: 'collaborator' },
      { id: partner.id, name: 'Partner', role: 'external' },
    ];
    const byId = (list: unknown) => [...(list as Array<{ id: string }>)].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(decodeJwt(id_token).organizations)).toEqual(byId(expected));
    const ui = (await (
      await fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${access_token}` } })
    ).json()) as Record<string, unknown>;
    expect(byId(ui.organizations)).toEqual(byId(expected));
    expect(JSON.stringify(ui)).not.toContain(gone.id);

    // Without the scope: no claim anywhere.
    const plain = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: bob.email,
      password: bob.password,
      scope: 'openid profile',
    });
    const tokens = await redeem(srv, web, plain.code!);
    expect(decodeJwt(tokens.id_token).organizations).toBeUndefined();
    const ui2 = (await (
      await fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    ).json()) as Record<string, unknown>;
    expect(ui2.organizations).toBeUndefined();
    expect(ui2.name).toBe('Bob Builder');
  });

  it('org.collaborator-sees-granted-applications: a collaborator sees and manages only the applications granted to them, directly or through a team', async () => {
    const [alice, bob] = [await createUser(srv), await createUser(srv)];
    const acme = await organization('Acme', alice, [[bob, 'collaborator']]);
    const direct = await orgApp(acme.id, alice, 'Direct');
    const viaTeam = await orgApp(acme.id, alice, 'Via team');
    const hidden = await orgApp(acme.id, alice, 'Hidden');
    const webTeam = await team(acme.id, 'Web team', [bob]);

    // Alice grants on the access page: Bob directly, and his team.
    const admin = await pages(alice);
    await switchTo(admin, acme.id);
    const access = await admin.go(`/account/applications/${direct.id}/access`);
    expect(access.body).toContain(bob.email);
    const granted = await admin.submit(access, { account_id: bob.account.id }, '/access/members"');
    expect(granted.url).toContain('done=granted');
    expect(granted.body).toMatch(/data-kind="member"/);
    const teamPage = await admin.go(`/account/applications/${viaTeam.id}/access`);
    expect((await admin.submit(teamPage, { team_id: webTeam }, '/access/teams')).body).toMatch(/data-kind="team"/);

    const bobPages = await pages(bob);
    await switchTo(bobPages, acme.id);
    const list = await bobPages.go('/account/applications');
    expect(list.body).toContain('Organization: Acme');
    expect(list.body).toContain('id="granted-only"');
    expect(list.body).not.toContain('id="new-app"');
    expect(listed(list).sort()).toEqual([direct.id, viaTeam.id].sort());
    for (const path of ['', '/secret', '/delete', '/access', '/credentials'])
      expect((await bobPages.go(`/account/applications/${hidden.id}${path}`)).status).toBe(404);
    expect((await post(bobPages, `/account/applications/${hidden.id}`, { name: 'Taken' })).status).toBe(404);

    // He edits and renews the secret of a granted one, but neither deletes it nor opens its access page.
    for (const app of [direct, viaTeam]) {
      const edit = await bobPages.go(`/account/applications/${app.id}`);
      expect(edit.status).toBe(200);
      expect(edit.body).not.toContain('id="delete-app"');
      expect(edit.body).not.toContain('id="app-access"');
      const saved = await bobPages.submit(
        edit,
        {
          name: `${app.name} (Bob)`,
          redirect_uris: app.redirectUri,
          post_logout_redirect_uris: '',
          backchannel_logout_uri: '',
        },
        `/account/applications/${app.id}"`,
      );
      expect(saved.status).toBe(200);
      expect((await srv.deps.repos.applications.findByClientId(app.clientId))?.name).toBe(`${app.name} (Bob)`);
      expect((await bobPages.go(`/account/applications/${app.id}/secret`)).status).toBe(200);
      expect((await bobPages.go(`/account/applications/${app.id}/delete`)).status).toBe(403);
      expect(
        (await post(bobPages, `/account/applications/${app.id}/delete`, { confirm_name: `${app.name} (Bob)` })).status,
      ).toBe(403);
      expect((await bobPages.go(`/account/applications/${app.id}/access`)).status).toBe(403);
      expect(
        (await post(bobPages, `/account/applications/${app.id}/access/members-only`, { members_only: 'on' })).status,
      ).toBe(403);
      expect(await srv.deps.repos.applications.findByClientId(app.clientId)).toMatchObject({ membersOnly: false });
    }
    expect((await bobPages.go('/account/applications/new')).status).toBe(403);
    expect((await post(bobPages, '/account/applications', { name: 'Mine', type: 'service' })).status).toBe(403);

    // The direct grant is in both logs; withdrawn, the application is gone from Bob's page.
    const logged = await rows<{ account_id: string; details: Record<string, string> }>(
      sql`SELECT account_id, details FROM activity WHERE type = 'app_access_granted' AND client_id = ${direct.clientId}`,
    );
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          account_id: alice.account.id,
          details: expect.objectContaining({ organization: 'Acme', member: bob.email }),
        }),
        expect.objectContaining({
          account_id: bob.account.id,
          details: expect.objectContaining({ organization: 'Acme', by: alice.email }),
        }),
      ]),
    );
    const grantsPage = await admin.go(`/account/applications/${direct.id}/access`);
    expect((await admin.submit(grantsPage, {}, '/access/revoke')).url).toContain('done=revoked');
    expect((await bobPages.go(`/account/applications/${direct.id}`)).status).toBe(404);
    expect(listed(await bobPages.go('/account/applications'))).toEqual([viaTeam.id]);
    const revoked = await rows<{ account_id: string }>(
      sql`SELECT account_id FROM activity WHERE type = 'app_access_revoked' AND client_id = ${direct.clientId}`,
    );
    expect(revoked.map((r) => r.account_id).sort()).toEqual([alice.account.id, bob.account.id].sort());
    // Out of the team, the other one goes too.
    await db().execute(sql`DELETE FROM team_members WHERE team_id = ${webTeam}`);
    expect(listed(await bobPages.go('/account/applications'))).toEqual([]);
  });

  it('org.external-sees-granted-read-only: an external user sees a granted application read-only and cannot change it', async () => {
    const [alice, erin] = [await createUser(srv), await createUser(srv)];
    const acme = await organization('Acme', alice, [[erin, 'external']]);
    const shared = await orgApp(acme.id, alice, 'Shared');
    await orgApp(acme.id, alice, 'Not shared');
    await db().execute(sql`INSERT INTO application_grants (id, organization_id, application_id, account_id)
      VALUES (${crypto.randomUUID()}, ${acme.id}, ${shared.id}, ${erin.account.id})`);
    const before = (await srv.deps.repos.applications.findByClientId(shared.clientId))!;

    const agent = await pages(erin);
    await switchTo(agent, acme.id);
    expect(listed(await agent.go('/account/applications'))).toEqual([shared.id]);
    const view = await agent.go(`/account/applications/${shared.id}`);
    expect(view.status).toBe(200);
    expect(view.body).toContain('id="read-only"');
    expect(view.body).toContain(shared.clientId);
    expect(view.body).toContain(shared.redirectUri);
    expect(view.body).not.toMatch(/<form[^>]*action="\/account\/applications\//);
    expect(view.body).not.toContain('/secret"');
    for (const path of ['/secret', '/delete', '/access', '/credentials'])
      expect((await agent.go(`/account/applications/${shared.id}${path}`)).status).toBe(403);
    const attempts = [
      [`/account/applications/${shared.id}`, { name: 'Hijacked', redirect_uris: 'https://evil.example/cb' }],
      [`/account/applications/${shared.id}/secret`, { grace_minutes: '0', confirm: 'yes' }],
      [`/account/applications/${shared.id}/previous-secret`, {}],
      [`/account/applications/${shared.id}/delete`, { confirm_name: 'Shared' }],
      [`/account/applications/${shared.id}/access/members-only`, { members_only: 'on' }],
      [`/account/applications/${shared.id}/access/members`, { account_id: erin.account.id }],
    ] as const;
    for (const [path, form] of attempts) expect((await post(agent, path, form)).status).toBe(403);
    expect(await srv.deps.repos.applications.findByClientId(shared.clientId)).toEqual(before);
  });

  it('org.other-org-ids.applications: application, member, team and grant ids of another organization in URLs and forms are 404 and change nothing', async () => {
    const [alice, bob, mallory, mike] = [
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
    ];
    const acme = await organization('Acme', alice, [[bob, 'collaborator']]);
    const mine = await orgApp(acme.id, alice, 'Acme site');
    const evil = await organization('Evil', mallory, [[mike, 'collaborator']]);
    const theirs = await orgApp(evil.id, mallory, 'Evil site');
    const theirTeam = await team(evil.id, 'Evil team', [mike]);
    const theirGrant = crypto.randomUUID();
    await db().execute(sql`INSERT INTO application_grants (id, organization_id, application_id, account_id)
      VALUES (${theirGrant}, ${evil.id}, ${theirs.id}, ${mike.account.id})`);
    // Alice's own personal organization is not the current one: its application is out of reach too.
    const personalApp = await orgApp(
      (await srv.deps.repos.organizations.personalOf(alice.account.id))!.id,
      alice,
      'Personal',
    );
    const snapshot = async () => ({
      apps: await rows(
        sql`SELECT id, name, members_only, secret_hash FROM applications WHERE id IN (${theirs.id}, ${mine.id}, ${personalApp.id}) ORDER BY id`,
      ),
      grants: await rows(
        sql`SELECT id, application_id, account_id, team_id FROM application_grants WHERE application_id IN (${theirs.id}, ${mine.id}) ORDER BY id`,
      ),
    });
    const before = await snapshot();

    const agent = await pages(alice);
    await switchTo(agent, acme.id);
    for (const other of [theirs.id, personalApp.id, 'not-a-uuid', crypto.randomUUID()]) {
      for (const path of ['', '/secret', '/delete', '/credentials', '/access'])
        expect((await agent.go(`/account/applications/${other}${path}`)).status).toBe(404);
      const forms = [
        ['', { name: 'Hijacked', redirect_uris: 'https://evil.example/cb' }],
        ['/secret', { grace_minutes: '0', confirm: 'yes' }],
        ['/previous-secret', {}],
        ['/delete', { confirm_name: 'Evil site' }],
        ['/access/members-only', { members_only: 'on' }],
        ['/access/members', { account_id: bob.account.id }],
        ['/access/teams', { team_id: theirTeam }],
        ['/access/revoke', { grant_id: theirGrant }],
      ] as const;
      for (const [path, form] of forms)
        expect((await post(agent, `/account/applications/${other}${path}`, form)).status).toBe(404);
    }
    // On her own application: another organization's member, team and grant are not found either.
    for (const [path, form] of [
      ['/access/members', { account_id: mike.account.id }],
      ['/access/members', { account_id: mallory.account.id }],
      ['/access/members', { account_id: 'not-a-uuid' }],
      ['/access/teams', { team_id: theirTeam }],
      ['/access/teams', { team_id: crypto.randomUUID() }],
      ['/access/revoke', { grant_id: theirGrant }],
    ] as const)
      expect((await post(agent, `/account/applications/${mine.id}${path}`, form)).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('org.current-organization-lists-its-applications: the switcher changes which applications the page lists and where a new one goes', async () => {
    const alice = await createUser(srv);
    const acme = await organization('Acme', alice);
    const personal = (await srv.deps.repos.organizations.personalOf(alice.account.id))!;
    const own = await orgApp(personal.id, alice, 'Own blog');
    const work = await orgApp(acme.id, alice, 'Work site');

    const agent = await pages(alice);
    const first = await agent.go('/account/applications');
    expect(first.body).toContain(`Organization: ${personal.name}`);
    expect(listed(first)).toEqual([own.id]);
    // Switching on one application's page leads to the new organization's list (that page is gone).
    const onApp = await agent.go(`/account/applications/${own.id}`);
    const switched = await agent.submit(onApp, { organization_id: acme.id }, '/account/organizations/switch');
    expect(switched.url).toBe(`${srv.url}/account/applications`);
    const second = await agent.go('/account/applications');
    expect(second.body).toContain('Organization: Acme');
    expect(listed(second)).toEqual([work.id]);
    expect((await agent.go(`/account/applications/${own.id}`)).status).toBe(404);

    // A new application goes to the current organization, registered by Alice.
    const created = await agent.submit(await agent.go('/account/applications/new'), {
      name: 'Work API',
      type: 'service',
    });
    expect(created.status).toBe(200);
    const [row] = await rows<{ organization_id: string; owner_id: string }>(
      sql`SELECT organization_id, owner_id FROM applications WHERE name = 'Work API' AND owner_id = ${alice.account.id}`,
    );
    expect(row).toEqual({ organization_id: acme.id, owner_id: alice.account.id });
    expect(listed(await agent.go('/account/applications'))).toHaveLength(2);
    await switchTo(agent, personal.id);
    expect(listed(await agent.go('/account/applications'))).toEqual([own.id]);
    expect(findForm((await agent.go('/account/applications')).body, '/account/organizations/switch').action).toBe(
      '/account/organizations/switch',
    );
  });
});
