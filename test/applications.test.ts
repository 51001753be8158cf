// The Applications page: a signed-in user registers a WordPress site and it works as a client.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { startServer, storageModes, createUser, type TestServer } from './helpers/server.ts';
import { Agent, authorize, basicAuth } from './helpers/agent.ts';

async function signIn(srv: TestServer, agent: Agent, email: string, password: string) {
  const page = await agent.go('/account/applications');
  expect(page.body).toContain('name="password"'); // sent through the one login flow
  const back = await agent.submit(page, { email, password }, '/login');
  expect(back.url).toBe(`${srv.url}/account/applications`);
  return back;
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
    const secret = created.body.match(/id="client-secret">([^<]+)</)![1]!;
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

    // A new secret replaces the old one at once.
    const rotated = await agent.submit(edit, {}, '/secret');
    const secret2 = rotated.body.match(/id="client-secret">([^<]+)</)![1]!;
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

    // Delete: the client is gone.
    await agent.submit(await agent.go(`/account/applications/${appId}`), {}, '/delete');
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
    const secret = svc.body.match(/id="client-secret">([^<]+)</)![1]!;
    const tok = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(id, secret) },
      body: 'grant_type=client_credentials',
    });
    expect(tok.status).toBe(200);
  });

  it('the account pages require a session', async () => {
    const res = await new Agent(srv.url).request('/account/applications');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/authorize\?client_id=sesame-account/);
  });
});
