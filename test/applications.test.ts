// The Applications page: a signed-in user registers a WordPress site and it works as a client.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { startServer, storageModes, createUser, type TestServer } from './helpers/server.ts';
import { Agent, authorize, basicAuth, type Page } from './helpers/agent.ts';
import { testClock } from './helpers/clock.ts';

async function signIn(srv: TestServer, agent: Agent, email: string, password: string) {
  const page = await agent.go('/account/applications');
  expect(page.body).toContain('name="password"'); // sent through the one login flow
  const back = await agent.submit(page, { email, password }, '/login');
  expect(back.url).toBe(`${srv.url}/account/applications`);
  return back;
}

const secretIn = (page: Page) => page.body.match(/id="client-secret">([^<]+)</)?.[1];
const appIdIn = (page: Page) => page.url.match(/\/account\/applications\/([0-9a-f-]{36})/)![1]!;

/** The confirmation page for a new secret, then the secret it shows (once). */
async function rotate(agent: Agent, appId: string, graceMinutes: number) {
  const confirm = await agent.go(`/account/applications/${appId}/secret`);
  expect(confirm.status).toBe(200);
  const page = await agent.submit(confirm, { grace_minutes: String(graceMinutes), confirm: 'yes' }, '/secret"');
  expect(page.url).toMatch(/\/credentials\?shown=/);
  return secretIn(page)!;
}

/** Status of a client-authenticated request at /token (client credentials), by either method. */
async function tokenStatus(srv: TestServer, clientId: string, secret: string, method: 'basic' | 'post') {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (method === 'basic') headers.authorization = basicAuth(clientId, secret);
  else {
    body.set('client_id', clientId);
    body.set('client_secret', secret);
  }
  return (await fetch(`${srv.url}/token`, { method: 'POST', headers, body })).status;
}

describe.each(storageModes())('applications (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('creates a Web Front-End app, shows the secret once, stores only its hash, and the app logs users in', async () => {
    const owner = await createUser(srv);
    const agent = new Agent(srv.url);
    const list = await signIn(srv, agent, owner.email, owner.password);
    const form = await agent.go('/account/applications/new');
    expect(form.status).toBe(200);
    const created = await agent.submit(form, {
      name: 'My WordPress',
      type: 'web',
      redirect_uris:
        'https://blog.example/openid-connect-authorize\nhttps://blog.example/wp-admin/admin-ajax.php?action=openid-connect-authorize',
      post_logout_redirect_uris: 'https://blog.example/wp-login.php?loggedout=true&wp_lang=en_US',
    });
    expect(created.status).toBe(200);
    const clientId = created.body.match(/id="client-id">([^<]+)</)![1]!;
    const secret = secretIn(created)!;
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(list.body).not.toContain(secret);

    // Only an HMAC is stored.
    const rows = await srv.deps.database.db.execute(
      sql`SELECT secret_hash FROM applications WHERE client_id = ${clientId}`,
    );
    const stored = (rows as unknown as { rows: { secret_hash: string }[] }).rows[0]!.secret_hash;
    expect(stored).not.toContain(secret);
    expect(stored).toMatch(/^hmac-sha256:/);

    // The listing and the edit page never show the secret again.
    const listing = await agent.go('/account/applications');
    expect(listing.body).toContain('My WordPress');
    expect(listing.body).not.toContain(secret);
    const appId = listing.body.match(/href="\/account\/applications\/([0-9a-f-]{36})"/)![1]!;
    const edit = await agent.go(`/account/applications/${appId}`);
    expect(edit.body).not.toContain(secret);

    // The app works: a user signs in through it.
    const user = await createUser(srv);
    const rp = new Agent(srv.url);
    const { code } = await authorize(rp, {
      clientId,
      redirectUri: 'https://blog.example/openid-connect-authorize',
      email: user.email,
      password: user.password,
    });
    const tok = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: 'https://blog.example/openid-connect-authorize',
        client_id: clientId,
        client_secret: secret,
      }),
    });
    expect(tok.status).toBe(200);

    // A new secret with no grace period replaces the old one at once.
    const secret2 = await rotate(agent, appId, 0);
    expect(secret2).not.toBe(secret);
    const cc = async (s: string) =>
      (
        await fetch(`${srv.url}/token/introspection`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, s) },
          body: new URLSearchParams({ token: 'x' }),
        })
      ).status;
    expect(await cc(secret)).toBe(401);
    expect(await cc(secret2)).toBe(200);

    // Edit the URLs; bad ones are refused with the input kept.
    const bad = await agent.submit(
      await agent.go(`/account/applications/${appId}`),
      { name: 'Renamed', redirect_uris: 'not a url', post_logout_redirect_uris: '', backchannel_logout_uri: '' },
      `/account/applications/${appId}"`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('not a url');
    expect(bad.body).toContain('Enter full URLs');
    const saved = await agent.submit(
      await agent.go(`/account/applications/${appId}`),
      {
        name: 'Renamed',
        redirect_uris: 'https://blog.example/openid-connect-authorize',
        post_logout_redirect_uris: '',
        backchannel_logout_uri: '',
      },
      `/account/applications/${appId}"`,
    );
    expect(saved.status).toBe(200);
    expect((await srv.deps.repos.applications.findByClientId(clientId))?.name).toBe('Renamed');

    // Delete (after typing its name): the client is gone.
    const confirmDelete = await agent.go(`/account/applications/${appId}/delete`);
    await agent.submit(confirmDelete, { confirm_name: 'Renamed' }, '/delete"');
    expect(await srv.deps.repos.applications.findByClientId(clientId)).toBeUndefined();
    expect(await cc(secret2)).toBe(401);
  });

  it("applications.other-owner: a user cannot see or change another user's application", async () => {
    const alice = await createUser(srv);
    const bob = await createUser(srv);
    const a = new Agent(srv.url);
    await signIn(srv, a, alice.email, alice.password);
    const created = await a.submit(await a.go('/account/applications/new'), {
      name: 'Alice app',
      type: 'service',
      redirect_uris: '',
    });
    expect(created.status).toBe(200);
    const appId = (await a.go('/account/applications')).body.match(
      /href="\/account\/applications\/([0-9a-f-]{36})"/,
    )![1]!;
    const b = new Agent(srv.url);
    await signIn(srv, b, bob.email, bob.password);
    expect((await b.go(`/account/applications/${appId}`)).status).toBe(404);
    const bobList = await b.go('/account/applications');
    const del = await b.go(`/account/applications/${appId}/delete`, {
      method: 'POST',
      form: {
        _csrf:
          bobList.body.match(/name="_csrf" value="([^"]+)"/)?.[1] ??
          (await b.go('/account/applications/new')).body.match(/name="_csrf" value="([^"]+)"/)![1]!,
      },
    });
    expect(del.status).toBe(404);
    expect((await a.go('/account/applications')).body).toContain('Alice app');
  });

  it('creates a single-page app with no secret and a back-end service with one', async () => {
    const owner = await createUser(srv);
    const agent = new Agent(srv.url);
    await signIn(srv, agent, owner.email, owner.password);
    const spa = await agent.submit(await agent.go('/account/applications/new'), {
      name: 'SPA',
      type: 'spa',
      redirect_uris: 'com.example.app:/callback\nhttp://localhost:5173/cb',
    });
    expect(spa.status).toBe(200);
    expect(spa.body).not.toContain('id="client-secret"');
    const svc = await agent.submit(await agent.go('/account/applications/new'), { name: 'Worker', type: 'service' });
    const id = svc.body.match(/id="client-id">([^<]+)</)![1]!;
    const secret = secretIn(svc)!;
    const tok = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(id, secret) },
      body: 'grant_type=client_credentials',
    });
    expect(tok.status).toBe(200);
  });

  it('apps.reload-does-not-create-twice: the POST redirects to a page that shows the secret once; a reload creates nothing', async () => {
    const owner = await createUser(srv);
    const agent = new Agent(srv.url);
    await signIn(srv, agent, owner.email, owner.password);
    const form = await agent.go('/account/applications/new');
    const fields = { name: 'Reloaded site', type: 'web', redirect_uris: 'https://reload.example/cb' };
    const post = await agent.request('/account/applications', {
      method: 'POST',
      form: { _csrf: form.body.match(/name="_csrf" value="([^"]+)"/)![1]!, ...fields },
    });
    expect(post.status).toBe(303);
    expect(await post.text()).not.toMatch(/client-secret/);
    const shown = await agent.go(post.headers.get('location')!);
    expect(shown.body).toContain('Application created');
    const secret = secretIn(shown)!;
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(shown.headers.get('cache-control')).toBe('no-store');

    // The browser reloads the page it is on: the same application, its secret no longer shown.
    const reloaded = await agent.go(shown.url);
    expect(reloaded.status).toBe(200);
    expect(reloaded.body).not.toContain(secret);
    expect(reloaded.body).toContain('id="secret-spent"');
    expect(reloaded.body).toContain(shown.body.match(/id="client-id">([^<]+)</)![1]!);
    const mine = await srv.deps.repos.applications.listByOwner(owner.account.id);
    expect(mine.map((a) => a.name)).toEqual(['Reloaded site']);
    // It belongs to its creator's personal organization (until the pages choose one).
    const personal = await srv.deps.repos.organizations.personalOf(owner.account.id);
    expect(personal?.type).toBe('personal');
    expect(mine[0]!.organizationId).toBe(personal!.id);

    // Another browser of another user given the address sees no secret (and spends nothing).
    const other = new Agent(srv.url);
    const stranger = await createUser(srv);
    await signIn(srv, other, stranger.email, stranger.password);
    expect((await other.go(shown.url)).status).toBe(404);
  });

  it('apps.rotate-secret-grace-period: both secrets work at /token during the grace period the owner chose, only the new one after', async () => {
    const owner = await createUser(srv);
    const agent = new Agent(srv.url);
    await signIn(srv, agent, owner.email, owner.password);
    const created = await agent.submit(await agent.go('/account/applications/new'), { name: 'Cron', type: 'service' });
    const appId = appIdIn(created);
    const clientId = created.body.match(/id="client-id">([^<]+)</)![1]!;
    const oldSecret = secretIn(created)!;

    // The edit page's old one-click form no longer rotates anything.
    const edit = await agent.go(`/account/applications/${appId}`);
    const csrf = edit.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const oneClick = await agent.go(`/account/applications/${appId}/secret`, { method: 'POST', form: { _csrf: csrf } });
    expect(oneClick.status).toBe(400);
    expect(await tokenStatus(srv, clientId, oldSecret, 'basic')).toBe(200);

    const confirm = await agent.go(`/account/applications/${appId}/secret`);
    expect(confirm.body).toMatch(/<option value="60"\s+selected>/); // the default: one hour
    const newSecret = await rotate(agent, appId, 60);
    for (const method of ['basic', 'post'] as const) {
      expect(await tokenStatus(srv, clientId, oldSecret, method)).toBe(200);
      expect(await tokenStatus(srv, clientId, newSecret, method)).toBe(200);
      expect(await tokenStatus(srv, clientId, 'not-the-secret', method)).toBe(401);
    }
    const page = await agent.go(`/account/applications/${appId}`);
    expect(page.body).toContain('The previous client secret still works until');

    testClock.advance(61 * 60_000);
    for (const method of ['basic', 'post'] as const) {
      expect(await tokenStatus(srv, clientId, oldSecret, method)).toBe(401);
      expect(await tokenStatus(srv, clientId, newSecret, method)).toBe(200);
    }
    expect((await agent.go(`/account/applications/${appId}`)).body).not.toContain('id="end-previous"');

    // Another one with a day's grace, ended early by the owner: the previous secret stops now.
    const third = await rotate(agent, appId, 24 * 60);
    expect(await tokenStatus(srv, clientId, newSecret, 'basic')).toBe(200);
    const ended = await agent.submit(await agent.go(`/account/applications/${appId}`), {}, '/previous-secret"');
    expect(ended.body).toContain('The previous client secret no longer works.');
    expect(await tokenStatus(srv, clientId, newSecret, 'basic')).toBe(401);
    expect(await tokenStatus(srv, clientId, third, 'post')).toBe(200);

    // A grace period over 24 h is refused.
    const tooLong = await agent.submit(
      await agent.go(`/account/applications/${appId}/secret`),
      { grace_minutes: '1441', confirm: 'yes' },
      '/secret"',
    );
    expect(tooLong.status).toBe(400);
    expect(await tokenStatus(srv, clientId, third, 'basic')).toBe(200);
  });

  it('apps.delete-needs-confirmation: deleting names the application and needs its name typed', async () => {
    const owner = await createUser(srv);
    const agent = new Agent(srv.url);
    await signIn(srv, agent, owner.email, owner.password);
    const created = await agent.submit(await agent.go('/account/applications/new'), {
      name: 'Live shop',
      type: 'service',
    });
    const appId = appIdIn(created);
    const clientId = created.body.match(/id="client-id">([^<]+)</)![1]!;
    const edit = await agent.go(`/account/applications/${appId}`);
    expect(edit.body).not.toMatch(/<form[^>]*action="[^"]*\/delete"/); // a link to a page, not a button
    expect(edit.body).toContain(`href="/account/applications/${appId}/delete"`);

    // One click (the form the page used to have) deletes nothing.
    const csrf = edit.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const oneClick = await agent.go(`/account/applications/${appId}/delete`, { method: 'POST', form: { _csrf: csrf } });
    expect(oneClick.status).toBe(400);
    expect(await srv.deps.repos.applications.findByClientId(clientId)).toBeDefined();

    const confirm = await agent.go(`/account/applications/${appId}/delete`);
    expect(confirm.body).toContain('Deleting “Live shop” cannot be undone');
    const wrong = await agent.submit(confirm, { confirm_name: 'Live sho' }, '/delete"');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatch(/id="confirm_name"[^>]*value="Live sho"[^>]*aria-invalid="true"/);
    expect(wrong.body).toMatch(/id="confirm_name-error">This is not the application(&#39;|')s name/);
    expect(await srv.deps.repos.applications.findByClientId(clientId)).toBeDefined();

    const done = await agent.submit(wrong, { confirm_name: ' Live shop ' }, '/delete"');
    expect(done.url).toBe(`${srv.url}/account/applications?deleted=1`);
    expect(await srv.deps.repos.applications.findByClientId(clientId)).toBeUndefined();
  });

  it('the account pages require a session', async () => {
    const res = await new Agent(srv.url).request('/account/applications');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/authorize\?client_id=sesame-account/);
  });
});
