// Signed-in devices: listing, and ending a session ends what it granted.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { decodeJwt } from 'jose';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { startLogoutReceiver } from './helpers/rp.ts';
import { Agent, authorize } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';

describe.each(storageModes())('sessions (%s storage)', (mode) => {
  let srv: TestServer;
  let rp: Awaited<ReturnType<typeof startLogoutReceiver>>;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    // A relying party's back-channel logout endpoint: ending a session must tell it.
    rp = await startLogoutReceiver();
    srv = await startServer({ mode, env: { ALLOW_PRIVATE_NETWORK_CALLBACKS: 'true' } });
    web = await createClient(srv, {
      type: 'web',
      backchannelLogoutUri: rp.url,
    });
  });
  afterAll(async () => {
    await srv?.stop();
    rp?.close();
  });

  const token = (form: Record<string, string>) =>
    fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: web.clientId, client_secret: web.clientSecret, ...form }),
    });

  it('session.revoke-ends-access: ending a session from another device revokes its tokens, its cookie and tells the relying party', async () => {
    const user = await createUser(srv);
    // Device A signs in to a WordPress-like site and gets tokens.
    const phone = new Agent(srv.url, {
      'user-agent':
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
    });
    const { code } = await authorize(phone, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
      scope: 'openid offline_access',
    });
    const tok = (await (
      await token({ grant_type: 'authorization_code', code: code!, redirect_uri: web.redirectUri })
    ).json()) as { access_token: string; refresh_token: string; id_token: string };
    expect(tok.refresh_token).toBeTruthy();
    const sid = decodeJwt(tok.id_token).sid;

    // Device B, on the Sessions page.
    const laptop = new Agent(srv.url, {
      'user-agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
    });
    await signInToAccount(srv, laptop, user.email, user.password, '/account/sessions');
    const page = await laptop.go('/account/sessions');
    const rows = [
      ...page.body.matchAll(/<tr data-session="([^"]+)" data-current="(yes|no)">\s*<td><strong>([^<]+)<\/strong>/g),
    ].map((m) => ({ uid: m[1]!, current: m[2] === 'yes', device: m[3]! }));
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.current)!.device).toBe('Chrome 140 · Linux');
    const other = rows.find((r) => !r.current)!;
    expect(other.device).toBe('Safari 18 · iOS 18');

    const ended = await laptop.submit(page, {}, `/account/sessions/${other.uid}/end"`);
    expect(ended.body).toContain('id="done"');
    expect([...ended.body.matchAll(/<tr data-session=/g)]).toHaveLength(1);

    // Everything device A had is gone.
    expect((await token({ grant_type: 'refresh_token', refresh_token: tok.refresh_token })).status).toBe(400);
    expect(
      (await fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tok.access_token}` } })).status,
    ).toBe(401);
    const silent = await phone.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid', prompt: 'none', state: 'x' })}`,
    );
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');
    await expect.poll(() => rp.logouts.some((t) => t && decodeJwt(t).sid === sid)).toBe(true);
    expect(await srv.deps.repos.activity.count(user.account.id, { types: ['session_ended'] })).toBe(1);
    // Device B is still signed in.
    expect((await laptop.go('/account/sessions')).url).toBe(`${srv.url}/account/sessions`);
  });

  it('"end all other sessions" keeps only this one', async () => {
    const user = await createUser(srv);
    for (let i = 0; i < 3; i++)
      await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email: user.email,
        password: user.password,
      });
    const me = new Agent(srv.url);
    await signInToAccount(srv, me, user.email, user.password, '/account/sessions');
    const page = await me.go('/account/sessions');
    expect([...page.body.matchAll(/<tr data-session=/g)]).toHaveLength(4);
    const after = await me.submit(page, {}, '/end-others"');
    expect([...after.body.matchAll(/<tr data-session=/g)]).toHaveLength(1);
    expect(after.body).toContain('data-current="yes"');
  });
});
