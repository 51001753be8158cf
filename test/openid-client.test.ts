// openid-client, an unmodified certified relying party library: discovery, code + PKCE + nonce with
// HTTP Basic, ID token validation against jwks_uri, refresh, userinfo, introspection, revocation,
// RP-initiated logout URL.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as oidc from 'openid-client';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent } from './helpers/agent.ts';

describe.each(storageModes())('openid-client as the relying party (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('logs in with code + PKCE + nonce, refreshes, introspects, revokes and builds the logout URL', async () => {
    const user = await createUser(srv, { name: 'Alan Turing', givenName: 'Alan', familyName: 'Turing' });
    const app = await createClient(srv, {
      type: 'web',
      redirectUris: ['https://rp.example/cb'],
      postLogoutRedirectUris: ['https://rp.example/bye'],
    });
    const config = await oidc.discovery(
      new URL(srv.url),
      app.clientId,
      app.clientSecret,
      oidc.ClientSecretBasic(app.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'https://rp.example/cb',
      scope: 'openid email profile',
      nonce,
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });

    const agent = new Agent(srv.url);
    let page = await agent.go(url.pathname + url.search);
    page = await agent.submit(page, { email: user.email, password: user.password }, '/login');
    page = await agent.submit(page, {}, '/confirm');
    const callback = new URL(page.url);
    expect(callback.origin).toBe('https://rp.example');

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.account.id);
    expect(claims.nonce).toBe(nonce);
    expect(claims.amr).toEqual(['pwd']);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ email: user.email, email_verified: true, given_name: 'Alan', family_name: 'Turing' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toMatchObject({
      active: true,
      sub: user.account.id,
    });
    await oidc.tokenRevocation(config, refreshed.access_token);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);

    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example/bye',
    });
    const confirm = await agent.go(logout.pathname + logout.search);
    expect((await agent.submit(confirm, { logout: 'yes' })).url).toBe('https://rp.example/bye');
  });

  it('client credentials through openid-client', async () => {
    const svc = await createClient(srv, { type: 'service' });
    const config = await oidc.discovery(new URL(srv.url), svc.clientId, svc.clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBeGreaterThan(0);
  });
});
