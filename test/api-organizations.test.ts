// The REST API's applications, organizations and members, over real HTTP against real stores, each
// answer checked against the OpenAPI document (helpers/api.ts): ids of other users' and other
// organizations' things refused as unknown with nothing changed, a client secret shown once, the
// roles' rules exactly as on the pages (organizations/policy.ts), scopes, and bad input.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { startServer, primaryStorageMode, createUser, type TestServer } from './helpers/server.ts';
import { api, personalToken, type ApiAnswer } from './helpers/api.ts';
import { basicAuth } from './helpers/agent.ts';
import { testClock } from './helpers/clock.ts';
import { hashClientSecret } from '../src/oidc/provider.ts';
import type { ApiScope } from '../src/api/scopes.ts';
import type { Role } from '../src/db/schema.ts';

type User = Awaited<ReturnType<typeof createUser>>;

const ALL: ApiScope[] = ['applications:read', 'applications:write', 'organizations:read', 'organizations:write'];

/** Each failed field of a validation_failed answer, by name. */
const fieldsOf = (res: ApiAnswer): Record<string, string> =>
  Object.fromEntries(
    ((res.body?.error?.errors ?? []) as Array<{ code: string; context: { attribute: string } }>).map((e) => [
      e.context.attribute,
      e.code,
    ]),
  );

describe.each(primaryStorageMode())('API applications and organizations (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    // Many calls with one token: the rate limit has its own test (api.rate-limit-60-per-minute).
    srv = await startServer({ mode, env: { RATE_LIMIT_API_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const db = () => srv.deps.database.db;
  const rows = async <T>(q: ReturnType<typeof sql>) => ((await db().execute(q)) as unknown as { rows: T[] }).rows;
  const orgs = () => srv.deps.repos.organizations;

  /** An organization led by `lead`, with the others in the roles given; `current` for all of them. */
  async function organization(lead: User, others: Array<[User, Role]> = [], name = 'Acme') {
    const org = await orgs().create({ name, type: 'company' }, lead.account.id);
    for (const [u, role] of others) await orgs().addMember(org.id, u.account.id, role);
    for (const u of [lead, ...others.map(([u]) => u)])
      await srv.deps.repos.accounts.setCurrentOrganization(u.account.id, org.id);
    return org;
  }
  async function webApp(orgId: string, owner: User, name = 'Site') {
    const input = { name, type: 'web' as const, redirectUris: ['https://site.example/cb'], postLogoutRedirectUris: [] };
    return (await srv.deps.applications.create(owner.account.id, input, orgId)).app;
  }
  const userIdOf = async (u: User) => (await srv.deps.repos.accounts.findById(u.account.id))!.userId;
  const roleOf = async (orgId: string, u: User) => (await orgs().membership(orgId, u.account.id))?.role;
  const activity = async (u: User, type: string) =>
    srv.deps.repos.activity.list(u.account.id, { types: [type] }, { limit: 10, offset: 0 });
  async function tokenStatus(clientId: string, secret: string): Promise<number> {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret) },
      body: 'grant_type=client_credentials',
    });
    return res.status;
  }

  it("api.other-users-resources: every id of another user's or another organization's application, organization and member is 404, like an unknown one, and nothing changes", async () => {
    const [alice, bob, dave] = [await createUser(srv), await createUser(srv), await createUser(srv)];
    const mine = await organization(alice, [], 'Alice Ltd');
    const theirs = await organization(bob, [[dave, 'collaborator']], 'Bob Ltd');
    const app = await webApp(theirs.id, bob, 'Bob site');
    // A previous secret still in its grace period: one more thing a stranger must not end.
    await srv.deps.applications.rotateSecret(app, 60);
    await webApp(mine.id, alice, 'Alice site');
    const token = await personalToken(srv, alice.account, ALL);
    const daveId = await userIdOf(dave);
    const snapshot = () =>
      rows(sql`SELECT name, redirect_uris, secret_hash, previous_secret_hash, previous_secret_expires_at
               FROM applications WHERE id = ${app.id}`);
    const before = await snapshot();

    const unknown = crypto.randomUUID();
    const calls: Array<[string, string, unknown?]> = [];
    for (const id of [app.id, unknown, 'not-a-uuid']) {
      calls.push(['GET', `/1/applications/${id}`]);
      calls.push(['PATCH', `/1/applications/${id}`, { name: 'Taken' }]);
      calls.push(['POST', `/1/applications/${id}/secret`, {}]);
      calls.push(['DELETE', `/1/applications/${id}`]);
      calls.push(['DELETE', `/1/applications/${id}/previous-secret`]);
      // Naming Bob's organization does not open it either.
      calls.push(['GET', `/1/applications/${id}?organization_id=${theirs.id}`]);
    }
    calls.push(['GET', `/api/applications?organization_id=${theirs.id}`]);
    calls.push(['POST', '/1/applications', { name: 'Planted', type: 'service', organization_id: theirs.id }]);
    calls.push(['POST', `/1/applications?organization_id=${theirs.id}`, { name: 'Planted', type: 'service' }]);
    for (const orgId of [theirs.id, unknown, 'nope']) {
      calls.push(['GET', `/1/organizations/${orgId}`]);
      calls.push(['PATCH', `/1/organizations/${orgId}`, { name: 'Taken' }]);
      calls.push(['GET', `/1/organizations/${orgId}/members`]);
    }
    // Dave is a member of Bob's organization, not of Alice's: in neither path is he hers to act on.
    for (const orgId of [theirs.id, mine.id]) {
      const m = `/1/organizations/${orgId}/members/${daveId}`;
      calls.push(['GET', m], ['PATCH', m, { role: 'external' }], ['DELETE', m, { confirm_email: alice.email }]);
      for (const action of ['block', 'unblock', 'unlock', 'security-alert']) calls.push(['POST', `${m}/${action}`]);
    }
    for (const userId of ['999999999', '99999999999', '0', 'abc'])
      calls.push(['GET', `/1/organizations/${mine.id}/members/${userId}`]);

    const answers = new Set<string>();
    for (const [method, path, body] of calls) {
      const res = await api(srv, method, path, { token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(res.text).not.toContain('Bob');
      answers.add(res.text);
    }
    // One and the same answer for an existing thing of someone else's and for nothing at all.
    expect(answers.size).toBe(1);

    expect(await snapshot()).toEqual(before);
    expect((before[0] as { previous_secret_hash: string | null }).previous_secret_hash).not.toBeNull();
    expect((await orgs().findById(theirs.id))!.name).toBe('Bob Ltd');
    expect(await rows(sql`SELECT id FROM applications WHERE name = 'Planted'`)).toEqual([]);
    const daves = await orgs().membership(theirs.id, dave.account.id);
    expect(daves?.role).toBe('collaborator');
    expect(daves?.blockedAt).toBeNull();
    expect(await activity(dave, 'org_security_alert')).toEqual([]);
    // Alice's own list holds her organization's application only.
    const list = await api(srv, 'GET', '/1/applications', { token });
    expect(list.body.data.map((a: { name: string }) => a.name)).toEqual(['Alice site']);
  });

  it('api.application-secret-shown-once: the client secret is in the 201 answer only, stored as an HMAC; a new one keeps the old working for the grace period; every change is logged', async () => {
    const alice = await createUser(srv);
    const org = await organization(alice, [], 'Secretive');
    const token = await personalToken(srv, alice.account, ['applications:read', 'applications:write']);

    const created = await api(srv, 'POST', '/1/applications', { token, body: { name: 'Cron', type: 'service' } });
    expect(created.status).toBe(201);
    const { id, client_id: clientId, client_secret: secret } = created.body.data;
    expect(secret).toMatch(/^[\w-]{40,}$/);
    expect(created.body.data.organization_id).toBe(org.id);
    const [stored] = await rows<{ secret_hash: string }>(sql`SELECT secret_hash FROM applications WHERE id = ${id}`);
    expect(stored!.secret_hash).toBe(hashClientSecret(srv.deps.config.hashKey, secret));
    expect(stored!.secret_hash).not.toContain(secret);
    expect(await tokenStatus(clientId, secret)).toBe(200);

    // Never again: not when read, not in the list, not after a change.
    for (const path of [`/1/applications/${id}`, '/1/applications']) {
      const res = await api(srv, 'GET', path, { token });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(secret);
      expect(res.text).not.toContain('client_secret');
    }
    const renamed = await api(srv, 'PATCH', `/1/applications/${id}`, { token, body: { name: 'Nightly cron' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data.name).toBe('Nightly cron');
    expect(renamed.text).not.toContain('client_secret');

    // A new secret: shown once; the old one works for the default hour, then stops.
    const rotated = await api(srv, 'POST', `/1/applications/${id}/secret`, { token, body: {} });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body.data.client_secret as string;
    expect(fresh).not.toBe(secret);
    const until = Date.parse(rotated.body.data.previous_secret_expires_at);
    expect(Math.abs(until - (testClock.now() + 60 * 60_000))).toBeLessThan(60_000);
    expect(await tokenStatus(clientId, secret)).toBe(200);
    expect(await tokenStatus(clientId, fresh)).toBe(200);
    expect((await api(srv, 'GET', `/1/applications/${id}`, { token })).text).not.toContain(fresh);
    testClock.advance(61 * 60_000);
    expect(await tokenStatus(clientId, secret)).toBe(401);
    expect(await tokenStatus(clientId, fresh)).toBe(200);
    // Ended early: the previous one stops now.
    const third = await api(srv, 'POST', `/1/applications/${id}/secret`, { token, body: { grace_minutes: 600 } });
    expect(await tokenStatus(clientId, fresh)).toBe(200);
    const ended = await api(srv, 'DELETE', `/1/applications/${id}/previous-secret`, { token });
    expect(ended.status).toBe(200);
    expect(ended.body.data.previous_secret_expires_at).toBeNull();
    expect(await tokenStatus(clientId, fresh)).toBe(401);
    expect(await tokenStatus(clientId, third.body.data.client_secret)).toBe(200);
    // Grace 0: the previous one stops at once.
    const now = await api(srv, 'POST', `/1/applications/${id}/secret`, { token, body: { grace_minutes: 0 } });
    expect(await tokenStatus(clientId, third.body.data.client_secret)).toBe(401);
    expect(await tokenStatus(clientId, now.body.data.client_secret)).toBe(200);

    // A single-page app has no secret at all.
    const spa = await api(srv, 'POST', '/1/applications', {
      token,
      body: { name: 'Spa', type: 'spa', redirect_uris: ['https://spa.example/cb'] },
    });
    expect(spa.status).toBe(201);
    expect(spa.body.data.client_secret).toBeNull();
    expect(spa.body.data.has_secret).toBe(false);
    const spaRotate = await api(srv, 'POST', `/1/applications/${spa.body.data.id}/secret`, { token, body: {} });
    expect(spaRotate.status).toBe(422);

    expect((await api(srv, 'DELETE', `/1/applications/${id}`, { token })).status).toBe(204);
    expect((await api(srv, 'GET', `/1/applications/${id}`, { token })).status).toBe(404);
    expect(await tokenStatus(clientId, now.body.data.client_secret)).toBe(401);

    for (const type of ['app_created', 'app_updated', 'app_secret_rotated', 'app_deleted']) {
      const entry = (await activity(alice, type)).find((e) => e.clientId === clientId);
      expect(entry, type).toBeDefined();
      expect(entry!.clientId).toBe(clientId);
      expect((entry!.details as Record<string, string>).organizationId).toBe(org.id);
    }
    expect((await activity(alice, 'app_secret_rotated')).filter((e) => e.clientId === clientId)).toHaveLength(3);
  });

  it("api.applications-current-organization: the API works in the account's current organization, as the pages do, and organization_id picks another of the caller's", async () => {
    const alice = await createUser(srv);
    const first = await organization(alice, [], 'First');
    const second = await organization(alice, [], 'Second'); // now the current one
    await webApp(first.id, alice, 'In first');
    await webApp(second.id, alice, 'In second');
    const token = await personalToken(srv, alice.account, ALL);
    const names = (res: ApiAnswer) => res.body.data.map((a: { name: string }) => a.name);

    expect(names(await api(srv, 'GET', '/1/applications', { token }))).toEqual(['In second']);
    expect(names(await api(srv, 'GET', `/1/applications?organization_id=${first.id}`, { token }))).toEqual([
      'In first',
    ]);
    const made = await api(srv, 'POST', '/1/applications', {
      token,
      body: { name: 'Made in first', type: 'service', organization_id: first.id },
    });
    expect(made.status).toBe(201);
    expect(made.body.data.organization_id).toBe(first.id);
    const viaQuery = await api(srv, 'POST', `/1/applications?organization_id=${first.id}`, {
      token,
      body: { name: 'Also in first', type: 'service' },
    });
    expect(viaQuery.body.data.organization_id).toBe(first.id);
    // Another organization's application is not found in the current one, only in its own.
    const id = made.body.data.id;
    expect((await api(srv, 'GET', `/1/applications/${id}`, { token })).status).toBe(404);
    expect((await api(srv, 'GET', `/1/applications/${id}?organization_id=${first.id}`, { token })).status).toBe(200);

    await srv.deps.repos.accounts.setCurrentOrganization(alice.account.id, first.id);
    expect(names(await api(srv, 'GET', '/1/applications', { token }))).toEqual([
      'Also in first',
      'Made in first',
      'In first',
    ]);
    const list = await api(srv, 'GET', '/1/organizations', { token });
    const current = list.body.data.filter((o: { current: boolean }) => o.current);
    expect(current.map((o: { id: string }) => o.id)).toEqual([first.id]);
    expect(list.body.total).toBe(3); // her personal organization too
  });

  it('api.org-roles-match-pages: a collaborator cannot manage members or applications, the last legal representative keeps the role, an administrator cannot grant legal_representative, as on the pages', async () => {
    const [alice, eve, carol, xavier] = [
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
    ];
    const org = await organization(alice, [
      [eve, 'administrator'],
      [carol, 'collaborator'],
      [xavier, 'external'],
    ]);
    const app = await webApp(org.id, alice, 'Shared');
    const [lead, admin, collab, ext] = await Promise.all(
      [alice, eve, carol, xavier].map((u) => personalToken(srv, u.account, ALL)),
    );
    const [aliceId, eveId, carolId, xavierId] = await Promise.all([alice, eve, carol, xavier].map(userIdOf));
    const m = (id: number) => `/1/organizations/${org.id}/members/${id}`;

    // The collaborator: no member list, no member action, no organization change, no new application.
    const refused: Array<[string, string, unknown?]> = [
      ['GET', `/1/organizations/${org.id}/members`],
      ['GET', m(xavierId)],
      ['PATCH', m(xavierId), { role: 'administrator' }],
      ['PATCH', m(carolId), { role: 'administrator' }],
      ['POST', `${m(xavierId)}/block`],
      ['POST', `${m(xavierId)}/security-alert`],
      ['DELETE', m(xavierId), { confirm_email: carol.email }],
      // An unknown user_id is refused the same way: who may not list members learns nobody's id.
      ['GET', m(999_999_999)],
      ['PATCH', `/1/organizations/${org.id}`, { name: 'Carol Inc' }],
      ['POST', '/1/applications', { name: 'Mine', type: 'service' }],
    ];
    for (const [method, path, body] of refused) {
      const res = await api(srv, method, path, { token: collab, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(res.text).not.toContain(xavier.email);
    }
    // The collaborator sees an application granted to them only, may then change it but not delete it;
    // the external user may read it, not change it.
    for (const method of ['GET', 'PATCH', 'DELETE'])
      expect(
        (
          await api(srv, method, `/1/applications/${app.id}`, {
            token: collab,
            body: method === 'PATCH' ? { name: 'Mine' } : undefined,
          })
        ).status,
      ).toBe(404);
    await srv.deps.repos.applications.grantMember(org.id, app.id, carol.account.id);
    const collabDelete = await api(srv, 'DELETE', `/1/applications/${app.id}`, { token: collab });
    expect(collabDelete.status).toBe(403);
    expect(collabDelete.body.error.code).toBe('forbidden');
    const collabPatch = await api(srv, 'PATCH', `/1/applications/${app.id}`, {
      token: collab,
      body: { name: 'Shared (edited)' },
    });
    expect(collabPatch.status).toBe(200);
    await srv.deps.repos.applications.grantMember(org.id, app.id, xavier.account.id);
    expect((await api(srv, 'GET', `/1/applications/${app.id}`, { token: ext })).status).toBe(200);
    const extPatch = await api(srv, 'PATCH', `/1/applications/${app.id}`, { token: ext, body: { name: 'X' } });
    expect(extPatch.status).toBe(403);
    expect(await roleOf(org.id, xavier)).toBe('external');
    expect(await roleOf(org.id, carol)).toBe('collaborator');
    expect((await orgs().findById(org.id))!.name).toBe('Acme');

    // The last legal representative cannot step down.
    const demote = await api(srv, 'PATCH', m(aliceId), { token: lead, body: { role: 'administrator' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error.code).toBe('last_legal_rep');
    expect(await roleOf(org.id, alice)).toBe('legal_representative');

    // An administrator neither grants nor takes the legal representative's role.
    const grant = await api(srv, 'PATCH', m(carolId), { token: admin, body: { role: 'legal_representative' } });
    expect(grant.status).toBe(403);
    expect(grant.body.error.code).toBe('forbidden');
    expect((await api(srv, 'PATCH', m(aliceId), { token: admin, body: { role: 'collaborator' } })).status).toBe(403);
    expect((await api(srv, 'POST', `${m(aliceId)}/block`, { token: admin })).status).toBe(403);
    expect(await roleOf(org.id, carol)).toBe('collaborator');
    expect(await roleOf(org.id, alice)).toBe('legal_representative');

    // What an administrator may do, they do, and it is logged and told as on the pages.
    const list = await api(srv, 'GET', `/1/organizations/${org.id}/members`, { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(4);
    const carolRow = list.body.data.find((r: { user_id: number }) => r.user_id === carolId);
    expect(carolRow).toMatchObject({ email: carol.email, role: 'collaborator', blocked: false, has_2fa: false });
    const filtered = await api(srv, 'GET', `/1/organizations/${org.id}/members?role=external`, { token: admin });
    expect(filtered.body.data.map((r: { user_id: number }) => r.user_id)).toEqual([xavierId]);

    const promoted = await api(srv, 'PATCH', m(carolId), { token: admin, body: { role: 'external' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body.data.role).toBe('external');
    expect(await roleOf(org.id, carol)).toBe('external');
    expect((await activity(carol, 'org_role_changed'))[0]?.details).toMatchObject({ by: eve.email, to: 'external' });

    const blocked = await api(srv, 'POST', `${m(xavierId)}/block`, { token: admin });
    expect(blocked.status).toBe(200);
    expect(blocked.body.data.blocked).toBe(true);
    expect(await activity(xavier, 'org_member_blocked')).toHaveLength(1);
    expect((await api(srv, 'GET', `/1/applications/${app.id}`, { token: ext })).status).toBe(404);
    const unblocked = await api(srv, 'POST', `${m(xavierId)}/unblock`, { token: admin });
    expect(unblocked.body.data.blocked).toBe(false);
    expect((await api(srv, 'POST', `${m(eveId)}/block`, { token: admin })).status).toBe(403); // never oneself
    const unlock = await api(srv, 'POST', `${m(xavierId)}/unlock`, { token: admin });
    expect(unlock.status).toBe(200);
    expect(unlock.body.data.locked).toBe(false);
    expect(await activity(xavier, 'org_member_unlocked')).toEqual([]); // nothing was locked
    const alert = await api(srv, 'POST', `${m(xavierId)}/security-alert`, { token: admin });
    expect(alert.status).toBe(200);
    expect(await activity(xavier, 'org_security_alert')).toHaveLength(1);

    const renamed = await api(srv, 'PATCH', `/1/organizations/${org.id}`, {
      token: admin,
      body: { name: 'Acme SA', phone: '044 668 18 00', country: 'CH' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ name: 'Acme SA', phone: '+41446681800', type: 'company' });
    expect(await activity(eve, 'org_updated')).toHaveLength(1);

    // Removing asks for the caller's own email address, as the member page does.
    for (const confirm of [xavier.email, 'someone@example.com']) {
      const wrong = await api(srv, 'DELETE', m(xavierId), { token: admin, body: { confirm_email: confirm } });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.code).toBe('confirm_own_email');
      expect(fieldsOf(wrong)).toEqual({ confirm_email: 'email_mismatch' });
    }
    const missing = await api(srv, 'DELETE', m(xavierId), { token: admin, body: {} });
    expect(fieldsOf(missing)).toEqual({ confirm_email: 'required' });
    expect(await roleOf(org.id, xavier)).toBe('external');
    const gone = await api(srv, 'DELETE', m(xavierId), {
      token: admin,
      body: { confirm_email: eve.email.toUpperCase() },
    });
    expect(gone.status).toBe(204);
    expect(await roleOf(org.id, xavier)).toBeUndefined();
    expect(await activity(xavier, 'org_member_removed')).toHaveLength(1);
    expect((await api(srv, 'GET', m(xavierId), { token: admin })).status).toBe(404);
  });

  it('api.insufficient-scope: each applications and organizations route refuses a token without its scope, and changes nothing', async () => {
    const alice = await createUser(srv);
    const org = await organization(alice, [], 'Scoped');
    const app = await webApp(org.id, alice, 'Scoped site');
    const aliceId = await userIdOf(alice);
    const m = `/1/organizations/${org.id}/members/${aliceId}`;
    const reads: Array<[string, string, ApiScope]> = [
      ['GET', '/1/applications', 'applications:read'],
      ['GET', `/1/applications/${app.id}`, 'applications:read'],
      ['GET', '/1/organizations', 'organizations:read'],
      ['GET', `/1/organizations/${org.id}`, 'organizations:read'],
      ['GET', `/1/organizations/${org.id}/members`, 'organizations:read'],
      ['GET', m, 'organizations:read'],
      ['GET', `/1/organizations/${org.id}/invitations`, 'organizations:read'],
    ];
    const writes: Array<[string, string, ApiScope, unknown?]> = [
      ['POST', '/1/applications', 'applications:write', { name: 'No', type: 'service' }],
      ['PATCH', `/1/applications/${app.id}`, 'applications:write', { name: 'No' }],
      ['POST', `/1/applications/${app.id}/secret`, 'applications:write', {}],
      ['DELETE', `/1/applications/${app.id}/previous-secret`, 'applications:write'],
      ['DELETE', `/1/applications/${app.id}`, 'applications:write'],
      ['PATCH', `/1/organizations/${org.id}`, 'organizations:write', { name: 'No' }],
      ['PATCH', m, 'organizations:write', { role: 'administrator' }],
      ['POST', `${m}/block`, 'organizations:write'],
      ['POST', `${m}/unblock`, 'organizations:write'],
      ['POST', `${m}/unlock`, 'organizations:write'],
      ['POST', `${m}/security-alert`, 'organizations:write'],
      ['DELETE', m, 'organizations:write', { confirm_email: alice.email }],
      [
        'POST',
        `/1/organizations/${org.id}/invitations`,
        'organizations:write',
        { email: 'no@example.com', role: 'external' },
      ],
      ['DELETE', `/1/organizations/${org.id}/invitations/${crypto.randomUUID()}`, 'organizations:write'],
    ];
    const profileOnly = await personalToken(srv, alice.account, ['profile:read']);
    const readOnly = await personalToken(srv, alice.account, ['applications:read', 'organizations:read']);
    const crossed = await personalToken(srv, alice.account, ['applications:write', 'organizations:read']);
    const check = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await api(srv, method, path, { token, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('insufficient_scope');
      expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    };
    for (const [method, path] of reads) await check(profileOnly, method, path);
    for (const [method, path, , body] of writes) {
      await check(profileOnly, method, path, body);
      await check(readOnly, method, path, body);
    }
    // Each scope opens its own resource only.
    for (const [method, path, scope, body] of writes)
      if (scope === 'organizations:write') await check(crossed, method, path, body);
    for (const [method, path, scope] of reads)
      if (scope === 'organizations:read') expect((await api(srv, method, path, { token: crossed })).status).toBe(200);
    // A write scope reads too.
    expect((await api(srv, 'GET', `/1/applications/${app.id}`, { token: crossed })).status).toBe(200);

    const [row] = await rows<{ name: string }>(sql`SELECT name FROM applications WHERE id = ${app.id}`);
    expect(row!.name).toBe('Scoped site');
    expect((await orgs().findById(org.id))!.name).toBe('Scoped');
    expect(await roleOf(org.id, alice)).toBe('legal_representative');
    expect(await rows(sql`SELECT id FROM applications WHERE name = 'No'`)).toEqual([]);
  });

  it('api.bad-input-fields: unknown fields, bad redirect URIs, wrong types and bad choices are 400 validation_failed naming each field', async () => {
    const alice = await createUser(srv);
    const [bob] = [await createUser(srv)];
    const org = await organization(alice, [[bob, 'collaborator']], 'Strict');
    const app = await webApp(org.id, alice, 'Strict site');
    const token = await personalToken(srv, alice.account, ALL);
    const bobId = await userIdOf(bob);
    const cases: Array<[string, string, unknown, Record<string, string>]> = [
      [
        'POST',
        '/1/applications',
        { name: 'A', type: 'web', redirect_uris: ['https://a.example/cb'], colour: 'red' },
        { colour: 'unknown_field' },
      ],
      [
        'POST',
        '/1/applications',
        { name: 'A', type: 'web', redirect_uris: ['not a url'] },
        { redirect_uris: 'not_absolute' },
      ],
      [
        'POST',
        '/1/applications',
        { name: 'A', type: 'web', redirect_uris: ['https://a.example/cb#x'] },
        { redirect_uris: 'fragment' },
      ],
      ['POST', '/1/applications', { name: 'A', type: 'web' }, { redirect_uris: 'redirect_required' }],
      [
        'POST',
        '/1/applications',
        { name: 'A', type: 'service', redirect_uris: ['https://a.example/cb'] },
        { redirect_uris: 'not_for_service' },
      ],
      [
        'POST',
        '/1/applications',
        {
          name: 'A',
          type: 'spa',
          redirect_uris: ['https://a.example/cb'],
          post_logout_redirect_uris: ['ftp://a.example/'],
        },
        { post_logout_redirect_uris: 'scheme' },
      ],
      [
        'POST',
        '/1/applications',
        { name: 5, type: 'desktop', redirect_uris: 'https://a.example/cb' },
        { name: 'invalid_type', type: 'invalid_choice', redirect_uris: 'invalid_type' },
      ],
      ['POST', '/1/applications', { name: '   ', type: 'service' }, { name: 'too_short' }],
      ['POST', '/1/applications', { type: 'service' }, { name: 'required' }],
      ['PATCH', `/1/applications/${app.id}`, { type: 'spa' }, { type: 'unknown_field' }],
      [
        'PATCH',
        `/1/applications/${app.id}`,
        { redirect_uris: ['https://a.example/x', 'relative/path'] },
        { redirect_uris: 'not_absolute' },
      ],
      [
        'PATCH',
        `/1/applications/${app.id}`,
        { backchannel_logout_uri: 12 },
        { backchannel_logout_uri: 'invalid_type' },
      ],
      ['POST', `/1/applications/${app.id}/secret`, { grace_minutes: 99_999 }, { grace_minutes: 'out_of_range' }],
      ['POST', `/1/applications/${app.id}/secret`, { grace_minutes: '60' }, { grace_minutes: 'invalid_type' }],
      ['PATCH', `/1/organizations/${org.id}`, { name: '' }, { name: 'too_short' }],
      [
        'PATCH',
        `/1/organizations/${org.id}`,
        { type: 'cooperative', vat: 'CHE-1' },
        { type: 'invalid_choice', vat: 'unknown_field' },
      ],
      ['PATCH', `/1/organizations/${org.id}`, { phone: '12' }, { phone: 'invalid_format' }],
      ['PATCH', `/1/organizations/${org.id}/members/${bobId}`, { role: 'owner' }, { role: 'invalid_choice' }],
      [
        'PATCH',
        `/1/organizations/${org.id}/members/${bobId}`,
        { role: 'external', admin: true },
        { admin: 'unknown_field' },
      ],
      ['POST', `/1/organizations/${org.id}/members/${bobId}/block`, { reason: 'x' }, { reason: 'unknown_field' }],
      [
        'DELETE',
        `/1/organizations/${org.id}/members/${bobId}`,
        { confirm_email: 7 },
        { confirm_email: 'invalid_type' },
      ],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = await api(srv, method, path, { token, body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(fieldsOf(res), JSON.stringify(body)).toEqual(fields);
    }
    const list = await api(srv, 'GET', `/1/organizations/${org.id}/members?role=king`, { token });
    expect(list.status).toBe(400);
    expect(fieldsOf(list)).toEqual({ role: 'invalid_choice' });
    const json = await api(srv, 'POST', '/1/applications', {
      token,
      raw: { type: 'application/json', data: '{"name":' },
    });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid_json');

    // Nothing was made or changed.
    expect(await rows(sql`SELECT id FROM applications WHERE organization_id = ${org.id}`)).toHaveLength(1);
    expect((await orgs().findById(org.id))!).toMatchObject({ name: 'Strict', type: 'company', phone: null });
    expect(await roleOf(org.id, bob)).toBe('collaborator');
    expect((await orgs().membership(org.id, bob.account.id))!.blockedAt).toBeNull();
  });

  it('api.bad-input-never-500: on every applications, organizations and members operation of the document, malformed JSON, another content type, a huge body and an unknown field are clear 4xx, never a 500', async () => {
    const alice = await createUser(srv);
    const bob = await createUser(srv);
    const org = await organization(alice, [[bob, 'collaborator']], 'Fuzzed');
    const app = await webApp(org.id, alice, 'Fuzzed site');
    const token = await personalToken(srv, alice.account, ALL);
    const bobId = await userIdOf(bob);
    const invitee = { email: `fuzz-${crypto.randomUUID()}@example.com`, role: 'external' as const };
    const invitation = await srv.deps.invitations.invite(org, alice.account, invitee, {
      ip: '127.0.0.1',
      device: 'test',
    });
    const doc = (await api(srv, 'GET', '/1/openapi.json')).body as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const operations = Object.entries(doc.paths)
      .filter(([path]) => /^\/(applications|organizations)/.test(path))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const { path: template, method, op } of operations) {
      if (method === 'get') continue; // no body to send
      const path = `/1${template}`
        .replace('/applications/{id}', `/applications/${app.id}`)
        .replace('/organizations/{id}', `/organizations/${org.id}`)
        .replace('{user_id}', String(bobId))
        .replace('{invitation_id}', invitation.id);
      const where = `${method} ${template}`;
      const M = method.toUpperCase();
      const unknown = await api(srv, M, path, { token, body: { zzz_unknown: 1 } });
      expect(unknown.status, where).toBe(400);
      expect(unknown.body.error.code, where).toBe('validation_failed');
      expect(fieldsOf(unknown).zzz_unknown, where).toBe('unknown_field');
      const huge = await api(srv, M, path, { token, body: { name: 'x'.repeat(40_000) } });
      expect(huge.status, where).toBe(413);
      if (!op.requestBody) continue;
      const malformed = await api(srv, M, path, { token, raw: { type: 'application/json', data: '{"name": ' } });
      expect([malformed.status, malformed.body.error.code], where).toEqual([400, 'invalid_json']);
      const text = await api(srv, M, path, { token, raw: { type: 'text/plain', data: 'name=x' } });
      expect([text.status, text.body.error.code], where).toEqual([415, 'invalid_content_type']);
      const notObject = await api(srv, M, path, { token, body: ['a'] });
      expect([notObject.status, notObject.body.error.code], where).toEqual([400, 'validation_failed']);
    }
    expect((await srv.deps.repos.applications.findInOrganization(org.id, app.id, alice.account.id))?.app.name).toBe(
      'Fuzzed site',
    );
    expect(await roleOf(org.id, bob)).toBe('collaborator');
  });

  it("api.invitations: invitations through the API as on the page: who manages members invites (the link by email only, never in an answer), a legal representative alone with that role, another organization's invitation is 404", async () => {
    const [alice, eve, carol, bob] = [
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
      await createUser(srv),
    ];
    const org = await organization(alice, [
      [eve, 'administrator'],
      [carol, 'collaborator'],
    ]);
    const other = await organization(bob, [], 'Elsewhere');
    const [lead, admin, collab, outsider] = await Promise.all(
      [alice, eve, carol, bob].map((u) => personalToken(srv, u.account, ALL)),
    );
    const path = `/1/organizations/${org.id}/invitations`;
    const invitee = `invitee-${crypto.randomUUID()}@example.com`;

    const made = await api(srv, 'POST', path, {
      token: admin,
      body: { email: invitee.toUpperCase(), role: 'collaborator' },
    });
    expect(made.status).toBe(201);
    expect(made.body.data).toMatchObject({ email: invitee, role: 'collaborator', invited_by: eve.email });
    const mail = srv
      .outbox()
      .filter((m) => m.to === invitee)
      .at(-1);
    const token = mail!.text.match(/\/invitation\/([\w-]+)/)![1]!;
    const list = await api(srv, 'GET', path, { token: lead });
    expect(list.body.data.map((i: { email: string }) => i.email)).toEqual([invitee]);
    for (const res of [made, list]) expect(res.text).not.toContain(token);
    expect((await activity(eve, 'org_invited'))[0]?.details).toMatchObject({ member: invitee, to: 'collaborator' });

    // Only a legal representative invites a legal representative; a collaborator invites nobody.
    const lr = await api(srv, 'POST', path, {
      token: admin,
      body: { email: 'lr@example.com', role: 'legal_representative' },
    });
    expect([lr.status, lr.body.error.code]).toEqual([403, 'forbidden']);
    expect(
      (await api(srv, 'POST', path, { token: lead, body: { email: 'lr@example.com', role: 'legal_representative' } }))
        .status,
    ).toBe(201);
    for (const [method, p, body] of [
      ['GET', path],
      ['POST', path, { email: 'x@example.com', role: 'external' }],
      ['DELETE', `${path}/${made.body.data.id}`],
    ] as const) {
      const res = await api(srv, method, p, { token: collab, body });
      expect([res.status, res.body.error.code], `${method} ${p}`).toEqual([403, 'forbidden']);
    }
    const member = await api(srv, 'POST', path, { token: admin, body: { email: carol.email, role: 'external' } });
    expect([member.status, member.body.error.code]).toEqual([409, 'already_member']);
    const bad = await api(srv, 'POST', path, { token: admin, body: { email: 'not-an-email', role: 'boss' } });
    expect(fieldsOf(bad)).toEqual({ email: 'invalid_email', role: 'invalid_choice' });

    // Another organization's: its list, a new invitation and a revocation are all 404, and the invitation stays.
    for (const [method, p, body] of [
      ['GET', path],
      ['POST', path, { email: 'y@example.com', role: 'external' }],
      ['DELETE', `${path}/${made.body.data.id}`],
      ['DELETE', `/1/organizations/${other.id}/invitations/${made.body.data.id}`],
      ['DELETE', `${path}/${crypto.randomUUID()}`],
    ] as const) {
      const res = await api(srv, method, p, {
        token: method === 'DELETE' && p.includes(other.id) ? outsider : outsider,
        body,
      });
      expect([res.status, res.body.error.code], `${method} ${p}`).toEqual([404, 'not_found']);
    }
    const unknown = await api(srv, 'DELETE', `${path}/${crypto.randomUUID()}`, { token: admin });
    expect(unknown.status).toBe(404);
    const viaOther = await api(srv, 'DELETE', `/1/organizations/${other.id}/invitations/${made.body.data.id}`, {
      token: outsider,
    });
    expect(viaOther.status).toBe(404);
    expect((await api(srv, 'GET', path, { token: admin })).body.total).toBe(2);

    const revoked = await api(srv, 'DELETE', `${path}/${made.body.data.id}`, { token: admin });
    expect(revoked.status).toBe(204);
    expect((await api(srv, 'GET', path, { token: admin })).body.total).toBe(1);
    expect(await activity(eve, 'org_invitation_revoked')).toHaveLength(1);
    const readOnly = await personalToken(srv, eve.account, ['organizations:read']);
    const scoped = await api(srv, 'POST', path, {
      token: readOnly,
      body: { email: 'z@example.com', role: 'external' },
    });
    expect([scoped.status, scoped.body.error.code]).toEqual([403, 'insufficient_scope']);
  });
});
