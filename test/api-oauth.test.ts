// The REST API called with OAuth access tokens a relying party got from a real authorization-code
// login: the ordinary sign-in token reads /1/profile (Infomaniak's shape, an integer id), a token for
// the API resource (RFC 8707, `resource=<issuer>/1`) holds the API scopes the user consented to and
// no more, and every token the API must not honour (revoked, expired, for another audience, without
// a user, of a blocked organization member) is a 401. A Python program written against Infomaniak's
// documented /1/profile reads the user with the token of a normal login.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize, basicAuth, decodeEntities, findForm, type Page } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';
import { api, type ApiAnswer } from './helpers/api.ts';
import { apiResource } from '../src/api/scopes.ts';

type User = Awaited<ReturnType<typeof createUser>>;
type Client = Awaited<ReturnType<typeof createClient>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire JSON, checked by expect
type Json = Record<string, any>;

const PYTHON_CLIENT = path.join(import.meta.dirname, 'clients', 'infomaniak_profile.py');
function python(): string | undefined {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return 'python3';
  } catch {
    return undefined;
  }
}

describe.each(primaryStorageMode())('API with OAuth access tokens (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Client;
  let resource: string;

  beforeAll(async () => {
    srv = await startServer({ mode, env: { REAUTH_WINDOW_SECONDS: '3600' } });
    web = await createClient(srv, { type: 'web', name: 'Example Site' });
    resource = apiResource(srv.url);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function tokenRequest(form: Record<string, string>, client: Client = web) {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(client.clientId, client.clientSecret),
      },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }
  /** A normal login (consent given if asked) and the code redeemed; `at` adds parameters to the
   *  token request (resource=…). */
  async function login(
    u: User,
    scope: string,
    opts: { authorize?: Record<string, string>; at?: Record<string, string>; agent?: Agent; client?: Client } = {},
  ) {
    const client = opts.client ?? web;
    const agent = opts.agent ?? new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      email: u.email,
      password: u.password,
      scope,
      extra: opts.authorize,
    });
    expect(code).toBeTruthy();
    const tok = await tokenRequest(
      { grant_type: 'authorization_code', code: code!, redirect_uri: client.redirectUri, ...opts.at },
      client,
    );
    expect(tok.status, JSON.stringify(tok.body)).toBe(200);
    return { ...(tok.body as { access_token: string; refresh_token?: string; scope: string }), agent };
  }
  const introspect = async (token: string) =>
    (await (
      await fetch(`${srv.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(web.clientId, web.clientSecret),
        },
        body: new URLSearchParams({ token }),
      })
    ).json()) as Json;
  const userinfo = (token: string) =>
    fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });
  /** The consent page of a request, signed in on the way. */
  async function consentPage(agent: Agent, u: User, query: Record<string, string>): Promise<Page> {
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      state: 's',
      ...query,
    });
    let page = await agent.go(`/authorize?${q}`);
    if (page.body.includes('/login"'))
      page = await agent.submit(page, { email: u.email, password: u.password }, '/login');
    return page;
  }
  const apiScopesListed = (page: Page) =>
    [...page.body.matchAll(/<li data-scope="([^"]+)">([^<]*)</g)].map((m) => [m[1], decodeEntities(m[2]!)]);
  const expectRefused = (res: ApiAnswer) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(res.body.error.code).toBe('not_authorized');
  };

  it('api.oauth-signin-token-reads-profile: the access token of an ordinary `openid profile email` login reads /1/profile with an integer id, and still works at userinfo', async () => {
    const u = await createUser(srv, { givenName: 'Grace', familyName: 'Hopper', name: 'Grace Hopper' });
    const tok = await login(u, 'openid profile email');
    // Nothing changed for such a relying party: OpenID scopes only, a token for userinfo.
    expect(tok.scope.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    expect((await introspect(tok.access_token)).aud).toBeUndefined();
    expect((await userinfo(tok.access_token)).status).toBe(200);

    const res = await api(srv, 'GET', '/1/profile', { token: tok.access_token });
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('success');
    expect(Number.isInteger(res.body.data.id)).toBe(true);
    expect(res.body.data).toMatchObject({
      id: u.account.userId,
      email: u.email,
      firstname: 'Grace',
      lastname: 'Hopper',
    });
    // The same through the unversioned prefix; `email` alone reads the profile too.
    const byEmail = await login(u, 'openid email');
    expect((await api(srv, 'GET', '/api/profile', { token: byEmail.access_token })).body.data.id).toBe(
      u.account.userId,
    );
  });

  it('api.profile-no-more-than-userinfo: a sign-in token reads through /1/profile only what userinfo gives it for its scopes', async () => {
    const u = await createUser(srv, { givenName: 'Grace', familyName: 'Hopper', name: 'Grace Hopper' });
    const byEmail = await login(u, 'openid email');
    const info = (await (await userinfo(byEmail.access_token)).json()) as Record<string, unknown>;
    expect(info.given_name).toBeUndefined();
    const viaEmail = (await api(srv, 'GET', '/1/profile', { token: byEmail.access_token })).body.data;
    expect(viaEmail).toMatchObject({ id: u.account.userId, email: u.email, login: u.email });
    expect(viaEmail).toMatchObject({ firstname: null, lastname: null, display_name: null, timezone: null });

    const byProfile = await login(u, 'openid profile');
    const viaProfile = (await api(srv, 'GET', '/1/profile', { token: byProfile.access_token })).body.data;
    expect(viaProfile).toMatchObject({ firstname: 'Grace', lastname: 'Hopper', email: null, login: null });
    expect(JSON.stringify(viaProfile)).not.toContain(u.email);
  });

  it("api.insufficient-scope: an OAuth token without the route's scope is a 403 insufficient_scope — a sign-in with only `openid`, an API token without profile:read", async () => {
    const u = await createUser(srv);
    const bare = await login(u, 'openid');
    const res = await api(srv, 'GET', '/1/profile', { token: bare.access_token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('insufficient_scope');
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const other = await login(u, 'openid security:read', { authorize: { resource }, at: { resource } });
    expect(other.scope).toBe('security:read');
    const denied = await api(srv, 'GET', '/1/profile', { token: other.access_token });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('insufficient_scope');
  });

  it('api.oauth-resource-token: resource=<issuer>/1 gives an opaque token for the API with the consented API scopes; userinfo refuses it and the relying party still gets its userinfo token', async () => {
    const u = await createUser(srv);
    const agent = new Agent(srv.url);
    const scope = 'openid profile email profile:read sessions:read';
    const consent = await consentPage(agent, u, { scope, resource });
    expect(consent.body).toContain('/confirm"');
    expect(apiScopesListed(consent)).toEqual([
      ['profile:read', 'Read your profile: name, email address, language and time zone'],
      ['sessions:read', 'See where you are signed in'],
    ]);
    expect(consent.body).toContain('Through the Sesame API, on your behalf, Example Site would also like to:');
    const back = await agent.submit(consent, {}, '/confirm');
    const code = new URL(back.url).searchParams.get('code')!;

    const tok = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: web.redirectUri, resource });
    expect(tok.status).toBe(200);
    expect(tok.body.scope.split(' ').sort()).toEqual(['profile:read', 'sessions:read']);
    const at = tok.body.access_token as string;
    // Opaque (not a JWT), kept in the store like every access token.
    expect(at.split('.')).toHaveLength(1);
    expect(await srv.deps.provider.AccessToken.find(at)).toMatchObject({ aud: resource, accountId: u.account.id });
    expect(await introspect(at)).toMatchObject({ active: true, aud: resource, scope: tok.body.scope });

    const me = await api(srv, 'GET', '/1/profile', { token: at });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ id: u.account.userId, email: u.email });
    // Not for userinfo: it holds API scopes only (no openid) and its audience is the API.
    const ui = await userinfo(at);
    expect(ui.status).toBe(403);
    expect(ui.headers.get('www-authenticate')).toContain('insufficient_scope');
    // The refresh token without `resource` gives the userinfo token (and with it, an API token again).
    const forUserinfo = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tok.body.refresh_token });
    expect(forUserinfo.status).toBe(200);
    expect(forUserinfo.body.scope.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    expect(((await (await userinfo(forUserinfo.body.access_token)).json()) as Json).email).toBe(u.email);
    const again = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: forUserinfo.body.refresh_token,
      resource,
    });
    expect(again.body.scope).toBe('profile:read sessions:read');
    expect((await api(srv, 'GET', '/1/profile', { token: again.body.access_token })).status).toBe(200);
  });

  it('api.oauth-consent-once: the grant records the API scopes, so the same request asks nothing the second time; a new API scope is asked again', async () => {
    const u = await createUser(srv);
    const agent = new Agent(srv.url);
    await login(u, 'openid profile:read', { agent, authorize: { resource }, at: { resource } });
    const second = await consentPage(agent, u, { scope: 'openid profile:read', resource });
    expect(second.url.startsWith(web.redirectUri)).toBe(true);
    expect(new URL(second.url).searchParams.get('code')).toBeTruthy();

    const more = await consentPage(agent, u, { scope: 'openid profile:read profile:write', resource });
    expect(more.body).toContain('/confirm"');
    expect(apiScopesListed(more).map(([s]) => s)).toEqual(['profile:read', 'profile:write']);
  });

  it('api.oauth-default-resource: API scopes asked without `resource` default to the API (listed, granted); an `openid` exchange without `resource` stays a userinfo token', async () => {
    const u = await createUser(srv);
    const agent = new Agent(srv.url);
    const consent = await consentPage(agent, u, { scope: 'openid email profile:read' });
    expect(apiScopesListed(consent).map(([s]) => s)).toEqual(['profile:read']);
    const code = new URL((await agent.submit(consent, {}, '/confirm')).url).searchParams.get('code')!;
    const tok = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: web.redirectUri });
    expect(tok.body.scope.split(' ').sort()).toEqual(['email', 'openid']);
    expect((await userinfo(tok.body.access_token)).status).toBe(200);
    const apiTok = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tok.body.refresh_token, resource });
    expect(apiTok.body.scope).toBe('profile:read');

    // Without `openid` the code gives the API token directly (the only resource it was issued for).
    const programmatic = await login(u, 'profile:read', { agent });
    expect(programmatic.scope).toBe('profile:read');
    expect(await introspect(programmatic.access_token)).toMatchObject({ aud: resource });
    expect((await api(srv, 'GET', '/1/profile', { token: programmatic.access_token })).status).toBe(200);
  });

  it('api.oauth-unknown-resource: another resource indicator is refused with invalid_target, at /authorize and at /token; tokens:write, applications:write and organizations:write cannot be asked by an application', async () => {
    const u = await createUser(srv);
    const agent = new Agent(srv.url);
    const refused = await consentPage(agent, u, {
      scope: 'openid profile:read',
      resource: 'https://api.other.example/',
    });
    expect(new URL(refused.url).searchParams.get('error')).toBe('invalid_target');

    const tok = await login(u, 'openid profile:read', { agent, authorize: { resource } });
    const other = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tok.refresh_token!,
      resource: `${srv.url}/2`,
    });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_target');

    // What would outlive the grant is no OAuth scope: a personal API token, a service application
    // and its secret, an invitation (api.oauth-no-lasting-credentials).
    const asked = 'openid tokens:write tokens:read applications:write organizations:write applications:read';
    const page = await consentPage(agent, u, { scope: asked, resource });
    expect(apiScopesListed(page).map(([s]) => s)).toEqual(['tokens:read', 'applications:read']);
    const code = new URL((await agent.submit(page, {}, '/confirm')).url).searchParams.get('code')!;
    const t = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: web.redirectUri, resource });
    expect(t.body.scope.split(' ').sort()).toEqual(['applications:read', 'tokens:read']);
    const made = await api(srv, 'POST', '/1/applications', {
      token: t.body.access_token,
      body: { name: 'Backdoor', type: 'service' },
    });
    expect([made.status, made.body.error.code]).toEqual([403, 'insufficient_scope']);
  });

  it('api.revoked-token-refused: an OAuth access token revoked by its relying party (POST /token/revocation) is a 401 at the next call', async () => {
    const u = await createUser(srv);
    const { access_token } = await login(u, 'openid profile:read', { authorize: { resource }, at: { resource } });
    expect((await api(srv, 'GET', '/1/profile', { token: access_token })).status).toBe(200);
    const rev = await fetch(`${srv.url}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(web.clientId, web.clientSecret),
      },
      body: new URLSearchParams({ token: access_token, token_type_hint: 'access_token' }),
    });
    expect(rev.status).toBe(200);
    expectRefused(await api(srv, 'GET', '/1/profile', { token: access_token }));
  });

  it('api.expired-token-refused: an OAuth access token past its hour is a 401', async () => {
    const u = await createUser(srv);
    const signin = await login(u, 'openid profile email');
    const forApi = await login(u, 'openid profile:read', { authorize: { resource }, at: { resource } });
    expect((await api(srv, 'GET', '/1/profile', { token: forApi.access_token })).status).toBe(200);
    // oidc-provider reads the time from Date (not from Sesame's clock): move Date, for the server
    // in this process too, past the hour and the library's clock tolerance.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3600 * 1000);
      expectRefused(await api(srv, 'GET', '/1/profile', { token: signin.access_token }));
      expectRefused(await api(srv, 'GET', '/1/profile', { token: forApi.access_token }));
    } finally {
      vi.useRealTimers();
    }
  });

  it('api.oauth-other-audience-refused: an access token for another audience is a 401, even with API scopes', async () => {
    const u = await createUser(srv);
    const issued = await login(u, 'openid profile:read', { authorize: { resource }, at: { resource } });
    const { grantId } = (await srv.deps.provider.AccessToken.find(issued.access_token))!;
    // Made through the provider's own model and kept in the store, as a second resource server's
    // tokens would be.
    const client = await srv.deps.provider.Client.find(web.clientId);
    const token = new srv.deps.provider.AccessToken({
      accountId: u.account.id,
      client: client!,
      grantId,
      scope: 'profile:read',
      gty: 'authorization_code',
    });
    token.setAudience('https://api.other.example/');
    const value = await token.save();
    expect((await srv.deps.provider.AccessToken.find(value))?.aud).toBe('https://api.other.example/');
    expectRefused(await api(srv, 'GET', '/1/profile', { token: value }));
    expectRefused(await api(srv, 'GET', '/1/profile', { token: 'not-a-token-at-all' }));
  });

  it('api.oauth-no-user-refused: a client-credentials token is a 401 (no user), and none is issued for the API resource', async () => {
    const service = await createClient(srv, { type: 'service', name: 'Batch job' });
    const cc = await tokenRequest({ grant_type: 'client_credentials' }, service);
    expect(cc.status).toBe(200);
    expectRefused(await api(srv, 'GET', '/1/profile', { token: cc.body.access_token }));
    const forApi = await tokenRequest({ grant_type: 'client_credentials', resource, scope: 'profile:read' }, service);
    expect(forApi.status).toBe(400);
    expect(forApi.body.error).toBe('invalid_target');
  });

  it('api.oauth-blocked-member-refused: blocking an organization member revokes their tokens for its applications; the API refuses them', async () => {
    const alice = await createUser(srv);
    const bob = await createUser(srv);
    const org = await srv.deps.repos.organizations.create({ name: 'Acme', type: 'company' }, alice.account.id);
    await srv.deps.repos.organizations.addMember(org.id, bob.account.id, 'collaborator');
    const { app, clientSecret } = await srv.deps.applications.create(
      alice.account.id,
      {
        name: 'Acme intranet',
        type: 'web',
        redirectUris: ['https://intranet.acme.example/cb'],
        postLogoutRedirectUris: [],
      },
      org.id,
    );
    const intranet = { clientId: app.clientId, clientSecret: clientSecret!, app, redirectUri: app.redirectUris[0]! };
    const signin = await login(bob, 'openid profile email', { client: intranet });
    const forApi = await login(bob, 'openid profile:read', {
      client: intranet,
      authorize: { resource },
      at: { resource },
    });
    expect((await api(srv, 'GET', '/1/profile', { token: forApi.access_token })).status).toBe(200);

    const lead = new Agent(srv.url);
    await signInToAccount(srv, lead, alice.email, alice.password, '/account/organizations');
    const memberPage = await lead.go(`/account/organizations/${org.id}/members/${bob.account.id}`);
    const csrf = findForm(memberPage.body, '/block').hidden._csrf!;
    const blocked = await lead.request(`/account/organizations/${org.id}/members/${bob.account.id}/block`, {
      method: 'POST',
      form: { _csrf: csrf },
    });
    expect(blocked.status).toBe(303);
    expect((await srv.deps.repos.organizations.membership(org.id, bob.account.id))?.blockedAt).toBeTruthy();
    expectRefused(await api(srv, 'GET', '/1/profile', { token: forApi.access_token }));
    expectRefused(await api(srv, 'GET', '/1/profile', { token: signin.access_token }));
  });

  const PYTHON = python();
  const pythonTest =
    "api.real-client-python: a Python program written against Infomaniak's /1/profile reads the user (integer id, email) with the token of a normal login";
  it.skipIf(!PYTHON)(
    PYTHON ? pythonTest : `${pythonTest} — SKIPPED: python3 is not installed on this machine`,
    async () => {
      const u = await createUser(srv);
      const { access_token } = await login(u, 'openid profile email');
      const out = await new Promise<string>((resolve, reject) =>
        execFile('python3', [PYTHON_CLIENT, srv.url, access_token], { timeout: 20_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(out.trim()).toBe(`${u.account.userId} ${u.email}`);
      // And the same program reports the API's error code for a token that is no good.
      const bad = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile('python3', [PYTHON_CLIENT, srv.url, 'nope'], { timeout: 20_000 }, (err, _o, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('error not_authorized');
    },
  );
});
