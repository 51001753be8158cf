// The forward-auth endpoint over HTTP (issue 14 item 2): what a reverse proxy asks on every request
// of a WebDAV/CalDAV/CardDAV client, and what it is answered. The cache of successes (a sync burst
// costs no argon2 and one lookup; a wrong password is never answered from it; revocation and 2FA
// drop it at once, on every node), the headers naming the user, bad input (never a 500), the realm,
// and the last-use record (throttled, written after the answer; a new network is logged).
// The same endpoint behind a real nginx in front of a real WebDAV server: forward-auth-nginx.test.ts.
import crypto from 'node:crypto';
import http from 'node:http';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, createUser, type TestServer } from './helpers/server.ts';
import { signedInUser, enrolTotp } from './helpers/mfa.ts';
import { waitFor } from './helpers/processes.ts';
import { testClock } from './helpers/clock.ts';
import { plainBasic } from './helpers/agent.ts';

const BY = { ip: '127.0.0.1', device: 'test' };

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: string } | string;
}

/** One question as a proxy asks it: the client's Authorization, the proxy's X-Forwarded-*. */
async function ask(
  srv: TestServer,
  authorization: string | undefined,
  opts: { headers?: Record<string, string>; query?: string; method?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${srv.url}/auth/forward${opts.query ?? ''}`, {
    method: opts.method ?? 'GET',
    headers: { ...(authorization ? { authorization } : {}), ...opts.headers },
  });
  const text = await res.text();
  let body: Answer['body'] = text;
  try {
    body = JSON.parse(text) as { error?: string };
  } catch {
    /* the 200 has an empty body */
  }
  return { status: res.status, headers: res.headers, body };
}

/** Refused the way every refusal is: 401, the Basic challenge, a stable code. */
function expectRefused(a: Answer, error = 'invalid_credentials', realm = 'Sesame') {
  expect(a.status).toBe(401);
  expect(a.headers.get('www-authenticate')).toBe(`Basic realm="${realm}", charset="UTF-8"`);
  expect(a.body).toEqual({ error });
  expect(a.headers.get('x-sesame-email')).toBeNull();
}

describe.each(primaryStorageMode())('forward auth (%s storage)', (mode) => {
  let srv: TestServer;
  /** A second node on the same database and store (PostgreSQL + Redis only: the embedded default
   *  is one node by design). */
  let other: TestServer | undefined;
  const shared = { storePrefix: `sesame-test:fwd-${crypto.randomBytes(4).toString('hex')}:` };
  beforeAll(async () => {
    const env = { TRUST_PROXY: 'true' };
    srv = await startServer({ mode, env, ...shared });
    if (mode === 'postgres') other = await startServer({ mode, env, ...shared });
  }, 60_000);
  afterAll(async () => {
    await other?.stop();
    await srv?.stop();
  });

  async function withAppPassword(name = 'DAVx5 on phone') {
    const user = await createUser(srv);
    const { secret, row } = await srv.deps.appPasswords.create(user.account.id, name, BY);
    return { ...user, secret, row };
  }
  /** Counts the verifier's database lookups (the one query of an uncached check). */
  function countLookups() {
    const repo = srv.deps.repos.appPasswords;
    const original = repo.findForLogin;
    const counter = { n: 0, restore: () => (repo.findForLogin = original) };
    repo.findForLogin = (...args) => {
      counter.n++;
      return original(...args);
    };
    return counter;
  }
  const argon2 = () => ({ ...srv.deps.password.verifications });

  it('a valid app password is answered 200 with the headers naming the user', async () => {
    const u = await withAppPassword();
    const a = await ask(srv, plainBasic(u.email, u.secret));
    expect(a.status).toBe(200);
    expect(a.headers.get('x-sesame-email')).toBe(u.email);
    expect(a.headers.get('remote-user')).toBe(u.email);
    expect(a.headers.get('remote-email')).toBe(u.email);
    expect(a.headers.get('x-sesame-user-id')).toBe(String(u.account.userId));
    expect(a.headers.get('x-sesame-sub')).toBe(u.account.id);
    expect(a.headers.get('x-sesame-credential')).toBe('app_password');
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(a.headers.get('www-authenticate')).toBeNull();
    // The login is the email as typed (any case), the app password with or without its dashes.
    const typed = await ask(srv, plainBasic(u.email.toUpperCase(), u.secret.replace(/-/g, '').toUpperCase()));
    expect(typed.status).toBe(200);
    expect(typed.headers.get('x-sesame-email')).toBe(u.email);
    // Any method: nginx's subrequest keeps the client's (PROPFIND, REPORT, PUT…).
    for (const method of ['PROPFIND', 'PUT', 'REPORT', 'DELETE', 'OPTIONS'])
      expect((await ask(srv, plainBasic(u.email, u.secret), { method })).status).toBe(200);
  });

  it('a burst of 200 checks with an app password costs no argon2 and one database lookup', async () => {
    const u = await withAppPassword();
    const lookups = countLookups();
    try {
      const before = argon2();
      const first = await ask(srv, plainBasic(u.email, u.secret));
      expect(first.status).toBe(200);
      const size = srv.deps.syncVerifier.cacheSize();
      // The rest of the burst in parallel, as a sync client's connections ask.
      const answers = await Promise.all(Array.from({ length: 199 }, () => ask(srv, plainBasic(u.email, u.secret))));
      expect(answers.map((a) => a.status)).toEqual(Array(199).fill(200));
      expect(lookups.n).toBe(1);
      expect(argon2()).toEqual(before);
      expect(srv.deps.syncVerifier.cacheSize()).toBe(size);
    } finally {
      lookups.restore();
    }
  });

  it('parallel first checks share one lookup: the account password (2FA off) costs one argon2 and never locks', async () => {
    const u = await createUser(srv);
    const lookups = countLookups();
    try {
      const before = argon2();
      // More than the lockout threshold (10) at once, before anything is cached.
      const answers = await Promise.all(Array.from({ length: 24 }, () => ask(srv, plainBasic(u.email, u.password))));
      expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
      expect(answers[0]?.headers.get('x-sesame-credential')).toBe('password');
      expect(lookups.n).toBe(1);
      expect(argon2().real - before.real).toBe(1);
      const account = await srv.deps.repos.accounts.findById(u.account.id);
      expect(account?.syncLockedAt ?? null).toBeNull();
    } finally {
      lookups.restore();
    }
  });

  it('app-password.cached-success-is-per-credential: a wrong password is never answered 200, even right after the right one was cached', async () => {
    const u = await withAppPassword();
    const stranger = await withAppPassword();
    expect((await ask(srv, plainBasic(u.email, u.secret))).status).toBe(200);
    // Right and wrong interleaved, in parallel, while the right one is cached.
    const tries = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? u.secret : ['', 'x', `${u.secret}x`, u.secret.slice(0, -1), stranger.secret][i % 5]!,
    );
    const answers = await Promise.all(tries.map((p) => ask(srv, plainBasic(u.email, p))));
    answers.forEach((a, i) => {
      if (i % 2 === 0) expect(a.status).toBe(200);
      else expectRefused(a);
    });
    // Another account's app password with this login, and this one's with the other's login.
    expectRefused(await ask(srv, plainBasic(u.email, stranger.secret)));
    expectRefused(await ask(srv, plainBasic(stranger.email, u.secret)));
    // The account password (2FA off) cached, then a wrong one: refused too. (Another account: the
    // wrong guesses above spent this one's account-password budget, which locks the channel by design.)
    expect((await ask(srv, plainBasic(stranger.email, stranger.password))).status).toBe(200);
    expectRefused(await ask(srv, plainBasic(stranger.email, `${stranger.password}!`)));
    expect((await ask(srv, plainBasic(stranger.email, stranger.password))).status).toBe(200);
  });

  it('app-password.revoked-refused: a revoked app password is refused at once, cached or not', async () => {
    const u = await withAppPassword();
    const kept = await srv.deps.appPasswords.create(u.account.id, 'Thunderbird', BY);
    expect((await ask(srv, plainBasic(u.email, u.secret))).status).toBe(200);
    expect((await ask(srv, plainBasic(u.email, kept.secret))).status).toBe(200);
    await srv.deps.appPasswords.revoke(u.account.id, [u.row.id], BY);
    expectRefused(await ask(srv, plainBasic(u.email, u.secret)));
    // The other one still works (it was dropped from the cache, not revoked).
    expect((await ask(srv, plainBasic(u.email, kept.secret))).status).toBe(200);
  });

  it.skipIf(mode !== 'postgres')(
    'app-password.revoked-refused-on-every-node: revoked on one node, refused at once by a node that had it cached',
    async () => {
      const node = other as TestServer;
      const u = await withAppPassword();
      // Cached on the other node (asked twice: the second answer comes from its cache).
      expect((await ask(node, plainBasic(u.email, u.secret))).status).toBe(200);
      const lookups = node.deps.repos.appPasswords;
      const original = lookups.findForLogin;
      let n = 0;
      lookups.findForLogin = (...args) => {
        n++;
        return original(...args);
      };
      try {
        expect((await ask(node, plainBasic(u.email, u.secret))).status).toBe(200);
        expect(n).toBe(0);
        // Revoked through the first node: its announcement reaches the other one through Redis.
        await srv.deps.appPasswords.revoke(u.account.id, [u.row.id], BY);
        expectRefused(await ask(node, plainBasic(u.email, u.secret)));
        expect(n).toBe(1);
      } finally {
        lookups.findForLogin = original;
      }
    },
  );

  it('app-password.account-password-refused-with-2fa: the account password is refused once 2FA is on, at once though it was cached; an app password still works', async () => {
    const user = await signedInUser(srv);
    const { secret } = await srv.deps.appPasswords.create(user.account.id, 'Calendar', BY);
    // 2FA off: the account password is accepted (and cached), on this node and the other.
    for (const node of [srv, other ?? srv]) {
      const ok = await ask(node, plainBasic(user.email, user.password));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-sesame-credential')).toBe('password');
      expect((await ask(node, plainBasic(user.email, user.password))).status).toBe(200);
    }
    const before = argon2();
    await enrolTotp(user.agent);
    for (const node of [srv, other ?? srv]) {
      expectRefused(await ask(node, plainBasic(user.email, user.password)));
      const app = await ask(node, plainBasic(user.email, secret));
      expect(app.status).toBe(200);
      expect(app.headers.get('x-sesame-credential')).toBe('app_password');
    }
    // The refusal cost the same argon2 work as any wrong password (a dummy verify, not the real hash).
    expect(srv.deps.password.verifications.real).toBe(before.real);
  });

  it('bad input at the endpoint: 401 credentials_required or invalid_credentials, never a 500', async () => {
    const u = await withAppPassword();
    expectRefused(await ask(srv, undefined), 'credentials_required');
    for (const header of [
      'Bearer abc',
      'Basic',
      'Basic !!!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(`:${u.secret}`).toString('base64')}`,
      `Digest username="${u.email}"`,
      `Basic ${'QUFB'.repeat(2000)}`,
    ])
      expectRefused(await ask(srv, header), 'credentials_required');
    expectRefused(await ask(srv, plainBasic(u.email, '')));
    expectRefused(await ask(srv, plainBasic('x'.repeat(400), u.secret)));
    expectRefused(await ask(srv, plainBasic(u.email, 'p'.repeat(1000))));
    expectRefused(await ask(srv, plainBasic('nobody@example.test', u.secret)));
    // Not UTF-8 inside the Basic value: decoded with replacement characters, then refused.
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(':'), Buffer.from([0x80, 0xff])]);
    expectRefused(await ask(srv, `Basic ${bytes.toString('base64')}`));
    const notUtf8 = Buffer.concat([Buffer.from(`${u.email}:`), Buffer.from([0xff]), Buffer.from(u.secret)]);
    expectRefused(await ask(srv, `Basic ${notUtf8.toString('base64')}`));
    // Bytes above ASCII in the header itself (Latin-1 on the wire), and a header far over any limit.
    const raw = (authorization: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${srv.url}/auth/forward`, { headers: { authorization } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const latin1 = await raw('Basic \u00e9\u00ff==');
    expect(latin1.status).toBe(401);
    expect(JSON.parse(latin1.body)).toEqual({ error: 'credentials_required' });
    const huge = await raw(`Basic ${'A'.repeat(64_000)}`);
    expect(huge.status).toBe(431);
    expect(huge.body).not.toMatch(/at \w+ \(|Error:/);
  });

  it('?realm= names the challenge; a bad realm falls back to "Sesame"', async () => {
    expectRefused(
      await ask(srv, undefined, { query: '?realm=CalDAV%20and%20CardDAV' }),
      'credentials_required',
      'CalDAV and CardDAV',
    );
    for (const bad of ['a%22b', 'a%5Cb', 'x'.repeat(65), '%C3%A9t%C3%A9', '', 'a%0d%0aSet-Cookie:%20x=1'])
      expectRefused(await ask(srv, plainBasic('a@b.test', 'nope'), { query: `?realm=${bad}` }));
    expectRefused(await ask(srv, undefined, { query: '?realm=a&realm=b' }), 'credentials_required');
  });

  it('the last use is written after the answer, throttled to once a minute; the service is X-Forwarded-Host', async () => {
    const u = await withAppPassword();
    const rowOf = async () => (await srv.deps.appPasswords.list(u.account.id)).find((r) => r.id === u.row.id);
    expect((await rowOf())?.lastUsedAt ?? null).toBeNull();
    const from = (ip: string, host: string) => ({ headers: { 'x-forwarded-for': ip, 'x-forwarded-host': host } });
    expect((await ask(srv, plainBasic(u.email, u.secret), from('203.0.113.5', 'dav.example.test'))).status).toBe(200);
    const first = await waitFor('the first use written', async () => {
      const r = await rowOf();
      return r?.lastUsedAt ? r : undefined;
    });
    expect(first.lastUsedIp).toBe('203.0.113.5');
    expect(first.lastUsedService).toBe('dav.example.test');
    // 30 s later, same network: not written again (the cached answer, the throttle).
    testClock.advance(30_000);
    expect((await ask(srv, plainBasic(u.email, u.secret), from('203.0.113.9', 'cal.example.test'))).status).toBe(200);
    await srv.drained();
    await new Promise((r) => setTimeout(r, 200));
    expect((await rowOf())?.lastUsedAt?.getTime()).toBe(first.lastUsedAt?.getTime());
    // Past the minute: written again.
    testClock.advance(31_000);
    expect((await ask(srv, plainBasic(u.email, u.secret), from('203.0.113.9', 'cal.example.test'))).status).toBe(200);
    const again = await waitFor('the use a minute later written', async () => {
      const r = await rowOf();
      return r?.lastUsedService === 'cal.example.test' ? r : undefined;
    });
    expect(again.lastUsedIp).toBe('203.0.113.9');
    expect(again.lastUsedAt?.getTime()).toBeGreaterThan(first.lastUsedAt?.getTime() ?? 0);
    // A header that is no host name is not kept as the service.
    testClock.advance(61_000);
    expect((await ask(srv, plainBasic(u.email, u.secret), from('203.0.113.9', 'bad host<>'))).status).toBe(200);
    await waitFor('the use without a service written', async () => (await rowOf())?.lastUsedService === null);
  });

  it('a use from a new network is logged as app_password_new_network; the first one and the same network are not', async () => {
    const u = await withAppPassword('Thunderbird on laptop');
    const events = () =>
      srv.deps.repos.activity.list(u.account.id, { types: ['app_password_new_network'] }, { limit: 10, offset: 0 });
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip, 'x-forwarded-host': 'dav.example.test' } });
    expect((await ask(srv, plainBasic(u.email, u.secret), from('192.0.2.10'))).status).toBe(200);
    await waitFor('the first use written', async () => (await srv.deps.appPasswords.list(u.account.id))[0]?.lastUsedAt);
    expect((await ask(srv, plainBasic(u.email, u.secret), from('192.0.2.77'))).status).toBe(200);
    await srv.drained();
    await new Promise((r) => setTimeout(r, 200));
    expect(await events()).toHaveLength(0);
    expect((await ask(srv, plainBasic(u.email, u.secret), from('198.51.100.7'))).status).toBe(200);
    const [event] = await waitFor('the new network logged', async () => {
      const list = await events();
      return list.length ? list : undefined;
    });
    expect(event?.ip).toBe('198.51.100.7');
    expect(event?.details).toMatchObject({
      name: 'Thunderbird on laptop',
      service: 'dav.example.test',
      network: '198.51.100.0/24',
    });
  });
});
