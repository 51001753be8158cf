// The hot paths' I/O (issue 15 item 2), counted by the server's own metrics of PostgreSQL queries:
// introspecting a client-credentials token — with or without `token_type_hint` — and issuing one once
// the client is cached make no PostgreSQL query; introspecting a sign-in's access token reads its
// session and grant and never looks for a refresh token. Refresh tokens have a length of their own
// (oidc/adapter.ts); one issued before that still refreshes and introspects.
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize, basicAuth } from './helpers/agent.ts';
import { databaseQueries } from './helpers/metrics.ts';
import { REFRESH_TOKEN_LENGTH } from '../src/oidc/adapter.ts';

type Client = Awaited<ReturnType<typeof createClient>>;

describe.each(primaryStorageMode())('hot paths (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Client;
  let svc: Client;
  let user: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    // No key refresh while a test counts queries.
    srv = await startServer({ mode, env: { KEYS_REFRESH_SECONDS: '3600' } });
    user = await createUser(srv);
    web = await createClient(srv, { type: 'web', redirectUris: ['https://rp.example/cb'] });
    svc = await createClient(srv, { type: 'service' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function post(path: string, client: Client, form: Record<string, string>) {
    const res = await fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(client.clientId, client.clientSecret),
      },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const introspect = (token: string, hint?: string, by: Client = web) =>
    post('/token/introspection', by, { token, ...(hint ? { token_type_hint: hint } : {}) });
  const clientCredentials = () => post('/token', svc, { grant_type: 'client_credentials' });

  async function signIn() {
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const tok = await post('/token', web, {
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: web.redirectUri,
    });
    expect(tok.status).toBe(200);
    return tok.body as { access_token: string; refresh_token: string };
  }

  /** PostgreSQL queries made while `work` ran. */
  async function queriesDuring(work: () => Promise<void>): Promise<number> {
    const before = await databaseQueries(srv);
    await work();
    await srv.drained();
    return (await databaseQueries(srv)) - before;
  }

  const HINTS = [undefined, 'access_token', 'refresh_token'];

  it('introspection of a client-credentials token makes no PostgreSQL query, with or without a hint', async () => {
    const cc = (await clientCredentials()).body.access_token as string;
    // The first call loads the introspecting client into the cache.
    expect((await introspect(cc, undefined, svc)).body.active).toBe(true);
    const queries = await queriesDuring(async () => {
      for (const hint of HINTS)
        expect((await introspect(cc, hint, svc)).body).toMatchObject({ active: true, client_id: svc.clientId });
    });
    expect(queries).toBe(0);
  });

  it("introspection of a sign-in's access token reads its session and grant, never a refresh token, with or without a hint", async () => {
    const { access_token } = await signIn();
    expect(access_token.length).not.toBe(REFRESH_TOKEN_LENGTH);
    expect((await introspect(access_token)).body.active).toBe(true);
    const queries = await queriesDuring(async () => {
      for (const hint of HINTS)
        expect((await introspect(access_token, hint)).body).toMatchObject({ active: true, sub: user.account.id });
    });
    // oidc-provider checks the session (the token expires with it) and the grant of every such access
    // token it introspects: two queries, both in PostgreSQL today. Before refresh tokens had their own
    // length each introspection also looked for a refresh token: three.
    expect(queries).toBe(2 * HINTS.length);
  });

  it('a client-credentials token costs no PostgreSQL query once the client is cached', async () => {
    expect((await clientCredentials()).status).toBe(200);
    const queries = await queriesDuring(async () => {
      for (let i = 0; i < 10; i++) expect((await clientCredentials()).status).toBe(200);
    });
    expect(queries).toBe(0);
  });

  it('refresh tokens have their own length and introspect and refresh as before, without a hint too', async () => {
    const { refresh_token } = await signIn();
    expect(refresh_token.length).toBe(REFRESH_TOKEN_LENGTH);
    expect((await introspect(refresh_token)).body).toMatchObject({ active: true, sub: user.account.id });
    const next = await post('/token', web, { grant_type: 'refresh_token', refresh_token });
    expect(next.status).toBe(200);
    expect((await introspect(refresh_token)).body.active).toBe(false);
  });

  it('a refresh token issued before they had their own length still introspects and refreshes', async () => {
    const { refresh_token } = await signIn();
    // The same token under an id of the old length (43 characters), as an earlier version issued it.
    const legacy = crypto.randomBytes(32).toString('base64url');
    expect(legacy.length).not.toBe(REFRESH_TOKEN_LENGTH);
    await srv.deps.database.db.execute(sql`
      INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, expires_at, chain_id)
      SELECT model, ${legacy}, jsonb_set(payload, '{jti}', to_jsonb(${legacy}::text)), grant_id, uid, expires_at, ${legacy}
      FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ${refresh_token}`);
    expect((await introspect(legacy)).body).toMatchObject({ active: true, sub: user.account.id });
    const next = await post('/token', web, { grant_type: 'refresh_token', refresh_token: legacy });
    expect(next.status).toBe(200);
    expect((next.body.refresh_token as string).length).toBe(REFRESH_TOKEN_LENGTH);
    // Spent: presented again after the grace window it is refused (the usual rotation rules).
    expect((await introspect(legacy)).body.active).toBe(false);
  });
});
