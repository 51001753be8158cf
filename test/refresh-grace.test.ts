// A retried refresh never costs the user the sign-in (issue 11): a consumed refresh token presented
// again within REFRESH_TOKEN_REUSE_GRACE_SECONDS of its first use — the client retrying after a lost
// response — gets a working token set; a replay outside the window, after the successor was used, or
// past the re-issue cap still revokes the grant (RFC 9700 §4.14.2). Over HTTP, the real token endpoint.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'drizzle-orm';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, authorize } from './helpers/agent.ts';
import { testClock } from './helpers/clock.ts';
import { REISSUE_CAP } from '../src/oidc/refresh-rotation.ts';
import { loadConfig, ConfigError } from '../src/config.ts';

interface TokenBody {
  access_token: string;
  refresh_token: string;
  error?: string;
}
type TokenAnswer = { status: number; body: TokenBody };

describe.each(storageModes())('refresh grace (%s storage)', (mode) => {
  let srv: TestServer;
  let user: Awaited<ReturnType<typeof createUser>>;
  let web: Awaited<ReturnType<typeof createClient>>;
  const auth = () => ({ client_id: web.clientId, client_secret: web.clientSecret });

  beforeAll(async () => {
    srv = await startServer({ mode });
    user = await createUser(srv);
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function token(form: Record<string, string>): Promise<TokenAnswer> {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, ...auth() }),
    });
    return { status: res.status, body: (await res.json()) as TokenBody };
  }
  const refresh = (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken });

  /** A fresh sign-in (its own browser, so its own grant): the code exchange's token set. */
  async function signIn(): Promise<TokenBody> {
    const { code } = await authorize(new Agent(srv.url), {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const t = await token({ grant_type: 'authorization_code', code: code!, redirect_uri: web.redirectUri });
    expect(t.status).toBe(200);
    expect(t.body.refresh_token).toBeTruthy();
    return t.body;
  }

  const userinfo = async (accessToken: string) =>
    (await fetch(`${srv.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

  async function introspect(tokenValue: string): Promise<boolean> {
    const res = await fetch(`${srv.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokenValue, ...auth() }),
    });
    return ((await res.json()) as { active: boolean }).active;
  }

  /** The whole grant is gone: none of these refresh tokens refreshes, none of the access tokens works. */
  async function expectRevoked(refreshTokens: string[], accessTokens: string[]) {
    for (const rt of refreshTokens) expect((await refresh(rt)).body.error).toBe('invalid_grant');
    for (const at of accessTokens) expect(await userinfo(at)).toBe(401);
  }

  const pastTheWindow = () => testClock.advance((srv.config.refreshTokenReuseGraceSeconds + 1) * 1000);

  it('fault.refresh-replay-outside-grace-revokes: a replay after the window revokes the grant', async () => {
    const t0 = await signIn();
    const t1 = await refresh(t0.refresh_token);
    expect(t1.status).toBe(200);
    pastTheWindow();
    const replay = await refresh(t0.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    await expectRevoked([t1.body.refresh_token], [t0.access_token, t1.body.access_token]);
  });

  it('refresh.retry-within-grace-keeps-grant: the retry gets a working token set', async () => {
    const t0 = await signIn();
    // The first refresh went through, but its answer never reached the client.
    const lost = await refresh(t0.refresh_token);
    expect(lost.status).toBe(200);
    const retry = await refresh(t0.refresh_token);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBeTruthy();
    expect(retry.body.refresh_token).not.toBe(lost.body.refresh_token);
    expect(await userinfo(retry.body.access_token)).toBe(200);
    // The grace is the token endpoint's: introspection sees the consumed and the superseded tokens
    // for what they are, and only the retry's token as live.
    expect(await introspect(t0.refresh_token)).toBe(false);
    expect(await introspect(lost.body.refresh_token)).toBe(false);
    expect(await introspect(retry.body.refresh_token)).toBe(true);
    // The chain goes on from the retry's token, and the user stays signed in.
    const next = await refresh(retry.body.refresh_token);
    expect(next.status).toBe(200);
    expect(await userinfo(next.body.access_token)).toBe(200);
  });

  it("refresh.superseded-successor-revokes: the lost answer's token, presented later, is reuse", async () => {
    const t0 = await signIn();
    const lost = await refresh(t0.refresh_token);
    const retry = await refresh(t0.refresh_token);
    expect(retry.status).toBe(200);
    // Only the client that retried holds the retry's token; whoever presents the superseded one
    // (a copy taken from the lost answer) ends the grant for both.
    const orphan = await refresh(lost.body.refresh_token);
    expect(orphan.status).toBe(400);
    expect(orphan.body.error).toBe('invalid_grant');
    await expectRevoked([retry.body.refresh_token], [retry.body.access_token]);
  });

  it('refresh.replay-after-successor-used-revokes: once the new token was used, even inside the window', async () => {
    const t0 = await signIn();
    const t1 = await refresh(t0.refresh_token);
    const t2 = await refresh(t1.body.refresh_token);
    expect(t2.status).toBe(200);
    const replay = await refresh(t0.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    await expectRevoked([t2.body.refresh_token], [t1.body.access_token, t2.body.access_token]);
  });

  it('refresh.parallel-retries-bounded: two retries at once leave one live token, nothing forks', async () => {
    const t0 = await signIn();
    await refresh(t0.refresh_token);
    const retries = await Promise.all([refresh(t0.refresh_token), refresh(t0.refresh_token)]);
    expect(retries.map((r) => r.status)).toEqual([200, 200]);
    const [a, b] = retries.map((r) => r.body.refresh_token as string);
    const live = [await introspect(a!), await introspect(b!)];
    expect(live.filter(Boolean)).toHaveLength(1);
    const rows = await srv.deps.database.db.execute(
      sql`SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'RefreshToken' AND consumed_at IS NULL
          AND grant_id = (SELECT grant_id FROM oidc_payloads WHERE model = 'RefreshToken' AND id = ${a})`,
    );
    expect((rows as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(1);
    const kept = live[0] ? a! : b!;
    expect((await refresh(kept)).status).toBe(200);
  });

  it('refresh.parallel-retries-past-cap: a burst of retries gets at most the cap, then the grant goes', async () => {
    const t0 = await signIn();
    await refresh(t0.refresh_token);
    const burst = await Promise.all(Array.from({ length: REISSUE_CAP + 3 }, () => refresh(t0.refresh_token)));
    const ok = burst.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(REISSUE_CAP);
    expect(burst.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
    await expectRevoked(
      ok.map((r) => r.body.refresh_token),
      ok.map((r) => r.body.access_token),
    );
  });

  it('refresh.reissue-cap: a token gives at most the cap of re-issues, the next replay revokes', async () => {
    const t0 = await signIn();
    const issued = [await refresh(t0.refresh_token)];
    for (let i = 0; i < REISSUE_CAP; i++) {
      const r = await refresh(t0.refresh_token);
      expect(r.status).toBe(200);
      issued.push(r);
    }
    const over = await refresh(t0.refresh_token);
    expect(over.status).toBe(400);
    expect(over.body.error).toBe('invalid_grant');
    await expectRevoked([issued.at(-1)!.body.refresh_token], [issued.at(-1)!.body.access_token]);
  });

  it('refresh.grace-off: REFRESH_TOKEN_REUSE_GRACE_SECONDS=0 makes every replay reuse', async () => {
    const strict = await startServer({ mode, env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' } });
    const saved = { srv, user, web };
    try {
      srv = strict;
      user = await createUser(srv);
      web = await createClient(srv, { type: 'web' });
      const t0 = await signIn();
      const t1 = await refresh(t0.refresh_token);
      expect(t1.status).toBe(200);
      expect((await refresh(t0.refresh_token)).body.error).toBe('invalid_grant');
      await expectRevoked([t1.body.refresh_token], [t1.body.access_token]);
    } finally {
      ({ srv, user, web } = saved);
      await strict.stop();
    }
  });
});

describe('refresh grace configuration', () => {
  it('REFRESH_TOKEN_REUSE_GRACE_SECONDS: 30 by default, 0 to 300, anything else refused by name', () => {
    const base = { NODE_ENV: 'test', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-grace-config-')) };
    expect(loadConfig(base).refreshTokenReuseGraceSeconds).toBe(30);
    expect(loadConfig({ ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' }).refreshTokenReuseGraceSeconds).toBe(0);
    for (const bad of ['301', '-1', '2.5', 'soon']) {
      const load = () => loadConfig({ ...base, REFRESH_TOKEN_REUSE_GRACE_SECONDS: bad });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/REFRESH_TOKEN_REUSE_GRACE_SECONDS/);
    }
  });
});
