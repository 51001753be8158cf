// Running Sesame: restarts, key rotation, housekeeping, back-channel logout.
import { describe, it, expect } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, createLocalJWKSet } from 'jose';
import { startServer, storageModes, createUser, createClient, uniqueEmail, STRONG_PASSWORD } from './helpers/server.ts';
import { Agent, authorize, signInForIdToken } from './helpers/agent.ts';
import { waitFor } from './helpers/processes.ts';
import argon2 from 'argon2';
import { eq, like } from 'drizzle-orm';
import { oidcPayloads } from '../src/db/schema.ts';
import { deleteExpiredPayloads } from '../src/oidc/adapter.ts';

async function token(url: string, form: Record<string, string>) {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe.each(storageModes())('restarts and keys (%s storage)', (mode) => {
  it('restart.keeps-sessions-grants-refresh-tokens', async () => {
    const storePrefix = `sesame-test:${crypto.randomBytes(4).toString('hex')}:`;
    let srv = await startServer({ mode, storePrefix });
    const port = Number(new URL(srv.url).port);
    const user = await createUser(srv);
    const web = await createClient(srv, { type: 'web' });
    const agent = new Agent(srv.url);
    const { code } = await authorize(agent, {
      clientId: web.clientId,
      redirectUri: web.redirectUri,
      email: user.email,
      password: user.password,
    });
    const auth = { client_id: web.clientId, client_secret: web.clientSecret };
    const t0 = await token(srv.url, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: web.redirectUri,
      ...auth,
    });
    expect(t0.status).toBe(200);
    const dataDir = srv.dataDir;
    await srv.stop();

    srv = await startServer({ mode, dataDir, port, storePrefix });
    try {
      const t1 = await token(srv.url, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token, ...auth });
      expect(t1.status).toBe(200);
      // The browser is still signed in and the consent remembered: no page, straight back with a code.
      const again = await agent.go(
        `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid email profile', prompt: 'none' })}`,
      );
      expect(new URL(again.url).searchParams.get('code')).toBeTruthy();
    } finally {
      await srv.stop();
    }
  });
});

// Embedded: the server has a database of its own (a rotation on a shared PostgreSQL database would
// change the keys of every other test's servers; the cluster tests rotate on PostgreSQL).
describe('keys (embedded storage)', () => {
  it('keys.rotate: a running server publishes the new keys at once, signs with them once they activate, old tokens still verify', async () => {
    const srv = await startServer({ env: { KEYS_REFRESH_SECONDS: '1' } });
    try {
      const user = await createUser(srv);
      const web = await createClient(srv, { type: 'web' });
      const agent = new Agent(srv.url);
      const login = () => signInForIdToken(agent, { ...web, email: user.email, password: user.password });
      const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
      const published = async () =>
        ((await (await fetch(`${srv.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      const oldToken = await login();
      const oldKid = kidOf(oldToken)!;
      const rotated = await srv.deps.signingKeys.rotate(5);
      expect(rotated.retired).toContain(oldKid);
      await waitFor('the new keys to be published', async () => {
        const kids = await published();
        return [oldKid, ...rotated.added].every((k) => kids.includes(k));
      });
      const before = await login();
      expect(Date.now()).toBeLessThan(Date.parse(rotated.activates_at));
      expect(kidOf(before)).toBe(oldKid);
      const newToken = await waitFor('the new key to sign', async () => {
        const t = await login();
        return kidOf(t) !== oldKid && t;
      });
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(rotated.activates_at));
      expect(rotated.added).toContain(kidOf(newToken));
      expect((await published())[0]).toBe(rotated.added[0]);
      const set = createRemoteJWKSet(new URL(`${srv.url}/jwks`));
      await jwtVerify(oldToken, set, { issuer: srv.url });
      await jwtVerify(newToken, set, { issuer: srv.url });
    } finally {
      await srv.stop();
    }
  });
});

describe('housekeeping', () => {
  it('cleanup deletes expired oidc rows in batches and keeps live ones', async () => {
    const srv = await startServer();
    try {
      const { db } = srv.deps.database;
      const past = new Date(Date.now() - 60_000);
      const future = new Date(Date.now() + 3600_000);
      for (let i = 0; i < 25; i++) {
        await db.insert(oidcPayloads).values({ model: 'Session', id: `expired-${i}`, payload: {}, expiresAt: past });
      }
      await db.insert(oidcPayloads).values({ model: 'Session', id: 'live', payload: {}, expiresAt: future });
      expect(await deleteExpiredPayloads(db, 10)).toBe(25);
      const left = await db
        .select({ id: oidcPayloads.id })
        .from(oidcPayloads)
        .where(like(oidcPayloads.id, 'expired-%'));
      expect(left).toHaveLength(0);
      expect(await db.select().from(oidcPayloads).where(eq(oidcPayloads.id, 'live'))).toHaveLength(1);
    } finally {
      await srv.stop();
    }
  });

  it('password.rehash-on-login: a hash made with weaker argon2id parameters is upgraded at sign-in', async () => {
    const srv = await startServer({ env: { ARGON2_TIME_COST: '3' } });
    try {
      const weak = await argon2.hash(STRONG_PASSWORD, {
        type: argon2.argon2id,
        memoryCost: 19456,
        timeCost: 2,
        parallelism: 1,
      });
      const email = uniqueEmail('rehash');
      const account = (await srv.deps.repos.accounts.create({
        email,
        passwordHash: weak,
        name: 'Old Hash',
        emailVerified: true,
      }))!;
      const web = await createClient(srv, { type: 'web' });
      await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password: STRONG_PASSWORD,
      });
      const after = (await srv.deps.repos.accounts.findById(account.id))!.passwordHash;
      expect(after).not.toBe(weak);
      expect(after).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=3\$/);
      expect(await argon2.verify(after, STRONG_PASSWORD)).toBe(true);
    } finally {
      await srv.stop();
    }
  });
});

describe('back-channel logout', () => {
  it('backchannel-logout: signing out posts a signed logout token to the RP', async () => {
    const received: string[] = [];
    const rp = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
    const rpUrl = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
    const srv = await startServer({ env: { ALLOW_PRIVATE_NETWORK_CALLBACKS: 'true' } });
    try {
      const user = await createUser(srv);
      const web = await createClient(srv, {
        type: 'web',
        backchannelLogoutUri: `${rpUrl}/backchannel`,
        postLogoutRedirectUris: ['https://rp.example/bye'],
      });
      const agent = new Agent(srv.url);
      const { code } = await authorize(agent, {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email: user.email,
        password: user.password,
      });
      const tok = await token(srv.url, {
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: web.redirectUri,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      });
      const page = await agent.go(
        `/logout?${new URLSearchParams({ id_token_hint: tok.body.id_token, post_logout_redirect_uri: 'https://rp.example/bye' })}`,
      );
      const done = await agent.submit(page, { logout: 'yes' });
      expect(done.url).toBe('https://rp.example/bye');
      await expect.poll(() => received.length, { timeout: 5000 }).toBe(1);
      const logoutToken = new URLSearchParams(received[0]!).get('logout_token')!;
      const jwks = createLocalJWKSet((await (await fetch(`${srv.url}/jwks`)).json()) as never);
      const { payload } = await jwtVerify(logoutToken, jwks, { issuer: srv.url, audience: web.clientId });
      expect(payload.sub).toBe(user.account.id);
      expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
      // Refresh tokens bound to the ended session stop working.
      const refresh = await token(srv.url, {
        grant_type: 'refresh_token',
        refresh_token: tok.body.refresh_token,
        client_id: web.clientId,
        client_secret: web.clientSecret,
      });
      expect(refresh.body.error).toBe('invalid_grant');
    } finally {
      await srv.stop();
      rp.close();
    }
  });
});
