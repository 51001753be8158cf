// The protocol as relying parties speak it, on every storage mode this run has.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRemoteJWKSet, jwtVerify, SignJWT, importJWK } from 'jose';
import { signerFor } from '../src/oidc/keys.ts';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize, pkcePair, basicAuth } from './helpers/agent.ts';
import { testClock } from './helpers/clock.ts';

async function tokenRequest(srv: TestServer, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

describe.each(storageModes())('protocol (%s storage)', (mode) => {
  let srv: TestServer;
  let user: Awaited<ReturnType<typeof createUser>>;
  let web: Awaited<ReturnType<typeof createClient>>;

  beforeAll(async () => {
    srv = await startServer({ mode });
    user = await createUser(srv, { name: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace' });
    web = await createClient(srv, {
      type: 'web',
      redirectUris: [
        'https://wp.example/openid-connect-authorize',
        'https://wp.example/wp-admin/admin-ajax.php?action=openid-connect-authorize',
      ],
      postLogoutRedirectUris: ['https://wp.example/wp-login.php?loggedout=true&wp_lang=en_US'],
    });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('serves discovery with the endpoint paths WordPress plugins expect', async () => {
    const d = (await (await fetch(`${srv.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(d.issuer).toBe(srv.url);
    expect(d.authorization_endpoint).toBe(`${srv.url}/authorize`);
    expect(d.token_endpoint).toBe(`${srv.url}/token`);
    expect(d.userinfo_endpoint).toBe(`${srv.url}/oauth2/userinfo`);
    expect(d.end_session_endpoint).toBeTruthy();
    expect(d.jwks_uri).toBeTruthy();
    const jwks = (await (await fetch(d.jwks_uri)).json()) as { keys: Array<{ alg: string; d?: string }> };
    expect(jwks.keys.map((k) => k.alg)).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('completes the WordPress plugin flow: no PKCE, no nonce, secret in the POST body, port-less Host', async () => {
    const agent = new Agent(srv.url);
    const { code, redirect } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
      scope: 'openid email profile phone',
    });
    expect(redirect.origin + redirect.pathname).toBe('https://wp.example/openid-connect-authorize');
    expect(code).toBeTruthy();
    const host = new URL(srv.url).hostname; // WordPress sends Host without the port
    const tok = await tokenRequest(
      srv,
      {
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: web.redirectUri,
        client_id: web.clientId,
        client_secret: web.clientSecret,
        scope: 'openid email profile',
      },
      { host },
    );
    expect(tok.status).toBe(200);
    expect(tok.body.token_type).toBe('Bearer');
    expect(typeof tok.body.expires_in).toBe('number');
    expect(tok.body.access_token).toBeTruthy();
    expect(tok.body.refresh_token).toBeTruthy();

    const jwks = createRemoteJWKSet(new URL(`${srv.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tok.body.id_token, jwks, {
      issuer: srv.url,
      audience: web.clientId,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.amr).toEqual(['pwd']);

    // WordPress POSTs to userinfo with an empty form body.
    const ui = await fetch(`${srv.url}/oauth2/userinfo`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tok.body.access_token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '',
    });
    expect(ui.status).toBe(200);
    const claims = (await ui.json()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      email: user.email,
      email_verified: true,
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
    });
    expect(claims.sub).toBe(payload.sub);
    expect(typeof claims.sub).toBe('string');
    expect(payload).toMatchObject({
      email: user.email,
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
    });
    const uiGet = await fetch(`${srv.url}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${tok.body.access_token}` },
    });
    expect(((await uiGet.json()) as { sub: string }).sub).toBe(payload.sub);
  });

  it('accepts the same web app secret with HTTP Basic (mod_auth_openidc, openid-client)', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await tokenRequest(
      srv,
      { grant_type: 'authorization_code', code: code!, redirect_uri: web.redirectUri },
      { authorization: basicAuth(web.clientId, web.clientSecret) },
    );
    expect(tok.status).toBe(200);
    expect(tok.body.id_token).toBeTruthy();
  });

  it('client-auth.wrong-secret: a wrong secret is 401 invalid_client, in the body or with Basic', async () => {
    const post = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: 'not-the-secret',
    });
    expect(post.status).toBe(401);
    expect(post.body.error).toBe('invalid_client');
    const basic = await tokenRequest(
      srv,
      { grant_type: 'authorization_code', code: 'x', redirect_uri: web.redirectUri },
      { authorization: basicAuth(web.clientId, web.clientSecret + 'x') },
    );
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
  });

  it('redirect.unregistered-uri: an unregistered or extended redirect URI is never followed', async () => {
    for (const bad of [
      'https://evil.example/cb',
      'https://wp.example/openid-connect-authorize/../evil',
      'https://wp.example/openid-connect-authorize?x=1',
      'https://wp.example/openid-connect-authorize-evil',
    ]) {
      const agent = new Agent(srv.url);
      const q = new URLSearchParams({
        client_id: web.clientId,
        redirect_uri: bad,
        response_type: 'code',
        scope: 'openid',
        state: 's',
      });
      const res = await agent.request(`/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri');
    }
  });

  it('code.reuse: a second redemption is invalid_grant and revokes what the first one issued', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const form = {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    };
    const first = await tokenRequest(srv, form);
    expect(first.status).toBe(200);
    const second = await tokenRequest(srv, form);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    const ui = await fetch(`${srv.url}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${first.body.access_token}` },
    });
    expect(ui.status).toBe(401);
  });

  it('code.parallel-redemption: two simultaneous redemptions of one code, exactly one wins', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const form = {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => tokenRequest(srv, form)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(4);
  });

  it('pkce: public clients must use PKCE, and a wrong verifier is invalid_grant', async () => {
    const spa = await createClient(srv, { type: 'spa', redirectUris: ['http://localhost:5173/callback'] });
    const agent = new Agent(srv.url);
    const q = new URLSearchParams({
      client_id: spa.clientId,
      redirect_uri: spa.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
    });
    const noPkce = await agent.go(`/authorize?${q}`);
    const back = new URL(noPkce.url);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('code')).toBeNull();

    const { verifier, challenge } = pkcePair();
    const { code } = await authorize(agent, {
      clientId: spa.clientId,
      redirectUri: spa.redirectUri,
      email: user.email,
      password: user.password,
      extra: { code_challenge: challenge, code_challenge_method: 'S256' },
    });
    const wrong = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: spa.redirectUri,
      client_id: spa.clientId,
      code_verifier: pkcePair().verifier,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');

    const { code: code2 } = await authorize(agent, {
      clientId: spa.clientId,
      redirectUri: spa.redirectUri,
      email: user.email,
      password: user.password,
      extra: { code_challenge: challenge, code_challenge_method: 'S256' },
    });
    const ok = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code2!,
      redirect_uri: spa.redirectUri,
      client_id: spa.clientId,
      code_verifier: verifier,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).toBeTruthy();
  });

  it('refresh.reuse-revokes-grant: refresh rotates, and replaying a consumed token revokes the grant', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const auth = { client_id: web.clientId, client_secret: web.clientSecret };
    const t0 = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      ...auth,
    });
    const t1 = await tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token, ...auth });
    expect(t1.status).toBe(200);
    expect(t1.body.refresh_token).toBeTruthy();
    expect(t1.body.refresh_token).not.toBe(t0.body.refresh_token);
    expect(t1.body.id_token).toBeTruthy();
    // Past the grace period for retries (test/refresh-grace.test.ts), a replay is reuse.
    testClock.advance((srv.config.refreshTokenReuseGraceSeconds + 1) * 1000);
    const replay = await tokenRequest(srv, {
      grant_type: 'refresh_token',
      refresh_token: t0.body.refresh_token,
      ...auth,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // The legitimate holder's newer token died with the grant.
    const after = await tokenRequest(srv, {
      grant_type: 'refresh_token',
      refresh_token: t1.body.refresh_token,
      ...auth,
    });
    expect(after.body.error).toBe('invalid_grant');
    const ui = await fetch(`${srv.url}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${t1.body.access_token}` },
    });
    expect(ui.status).toBe(401);
  });

  it('client credentials, introspection and revocation for a back-end service', async () => {
    const svc = await createClient(srv, { type: 'service' });
    const tok = await tokenRequest(
      srv,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(svc.clientId, svc.clientSecret) },
    );
    expect(tok.status).toBe(200);
    expect(tok.body.token_type).toBe('Bearer');
    const introspect = async (token: string, id: string, secret: string) =>
      (await (
        await fetch(`${srv.url}/token/introspection`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(id, secret) },
          body: new URLSearchParams({ token }),
        })
      ).json()) as Record<string, unknown>;
    expect(await introspect(tok.body.access_token, svc.clientId, svc.clientSecret)).toMatchObject({
      active: true,
      client_id: svc.clientId,
    });
    // Another client learns nothing about this token.
    expect(await introspect(tok.body.access_token, web.clientId, web.clientSecret)).toEqual({ active: false });
    const rev = await fetch(`${srv.url}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(svc.clientId, svc.clientSecret),
      },
      body: new URLSearchParams({ token: tok.body.access_token }),
    });
    expect(rev.status).toBe(200);
    expect(await introspect(tok.body.access_token, svc.clientId, svc.clientSecret)).toEqual({ active: false });
    // A service has no authorization-code flow.
    const agent = new Agent(srv.url);
    const res = await agent.request(
      `/authorize?${new URLSearchParams({ client_id: svc.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://x.example/cb' })}`,
    );
    expect(res.status).toBe(400);
  });

  it('introspects a user access token for its own client and revokes a refresh token', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    });
    const intro = (await (
      await fetch(`${srv.url}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: tok.body.access_token,
          client_id: web.clientId,
          client_secret: web.clientSecret,
        }),
      })
    ).json()) as Record<string, unknown>;
    expect(intro).toMatchObject({ active: true, sub: user.account.id, client_id: web.clientId });
    const rev = await fetch(`${srv.url}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tok.body.refresh_token,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      }),
    });
    expect(rev.status).toBe(200);
    const refresh = await tokenRequest(srv, {
      grant_type: 'refresh_token',
      refresh_token: tok.body.refresh_token,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('id-token.tampered: a modified ID token fails verification against the JWKS', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    });
    const [h, p, s] = (tok.body.id_token as string).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.sub = 'someone-else';
    const tampered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    const jwks = createRemoteJWKSet(new URL(`${srv.url}/jwks`));
    await expect(jwtVerify(tampered, jwks, { issuer: srv.url })).rejects.toThrow(/signature/i);
  });

  it('an account whose email is not confirmed gets no code, so no token (the email is released only once verified)', async () => {
    const unverified = await createUser(srv, { emailVerified: false });
    const agent = new Agent(srv.url);
    const refused = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: unverified.email,
      password: unverified.password,
    }).catch((err: { page?: { status: number; body: string } }) => err.page);
    expect(refused).toMatchObject({ status: 403 });
    expect((refused as { body: string }).body).toContain('id="verify-first"');
  });

  it('RP-initiated logout with id_token_hint only, to a WordPress post-logout URL whose wp_lang varies', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    });
    const target = 'https://wp.example/wp-login.php?loggedout=true&wp_lang=fr_FR';
    const page = await agent.go(
      `/logout?${new URLSearchParams({ id_token_hint: tok.body.id_token, post_logout_redirect_uri: target })}`,
    );
    expect(page.status).toBe(200);
    const done = await agent.submit(page, { logout: 'yes' });
    expect(done.url).toBe(target);
    // Signed out: the next authorization asks for the password again.
    const again = await agent.go(
      `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
    );
    expect(again.body).toContain('name="password"');
    // A post-logout URL on another path is refused.
    const bad = await agent.go(
      `/logout?${new URLSearchParams({ id_token_hint: tok.body.id_token, post_logout_redirect_uri: 'https://wp.example/elsewhere' })}`,
    );
    expect(bad.status).toBe(400);
  });

  it('logout.open-redirect-extra-query-refused', async () => {
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await tokenRequest(srv, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      client_id: web.clientId,
      client_secret: web.clientSecret,
    });
    // wp-login.php follows redirect_to after logout: an extra key would chain into an open redirect.
    for (const target of [
      'https://wp.example/wp-login.php?loggedout=true&wp_lang=en_US&redirect_to=https://evil.example/',
      'https://wp.example/wp-login.php?redirect_to=https://evil.example/',
    ]) {
      const res = await agent.go(
        `/logout?${new URLSearchParams({ id_token_hint: tok.body.id_token, post_logout_redirect_uri: target })}`,
      );
      expect(res.status, target).toBe(400);
    }
  });

  it('RP-initiated logout accepts an expired id_token_hint', async () => {
    const agent = new Agent(srv.url);
    await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    // An ID token issued two days ago by this server's own RS256 key (as a relying party keeps it).
    const jwk = signerFor(await srv.deps.signingKeys.load(), 'RS256', Date.now())!.jwk;
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ sub: user.account.id })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .setIssuer(srv.url)
      .setAudience(web.clientId)
      .setIssuedAt(now - 2 * 86400)
      .setExpirationTime(now - 2 * 86400 + 3600)
      .sign(await importJWK(jwk, 'RS256'));
    const target = 'https://wp.example/wp-login.php?loggedout=true&wp_lang=de_DE';
    const page = await agent.go(
      `/logout?${new URLSearchParams({ id_token_hint: expired, post_logout_redirect_uri: target })}`,
    );
    expect(page.status).toBe(200);
    expect((await agent.submit(page, { logout: 'yes' })).url).toBe(target);
  });
});
