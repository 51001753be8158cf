// Running Sesame: restarts, key rotation, back-channel logout, configuration, the CLI.
import { describe, it, expect } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, createLocalJWKSet } from 'jose';
import {
  startServer,
  storageModes,
  createUser,
  createClient,
  uniqueEmail,
  failureCount,
  STRONG_PASSWORD,
} from './helpers/server.ts';
import { Agent, authorize } from './helpers/agent.ts';
import { loadConfig, ConfigError } from '../src/config.ts';
import { rotateKeys, loadKeys } from '../src/oidc/keys.ts';
import { createLogger } from '../src/lib/logger.ts';
import argon2 from 'argon2';
import { eq, like } from 'drizzle-orm';
import { oidcPayloads } from '../src/db/schema.ts';
import { deleteExpiredPayloads } from '../src/oidc/adapter.ts';
import { MIGRATIONS_DIR } from '../src/db/migrate.ts';
import { runCli } from '../src/cli/main.ts';

const run = promisify(execFile);
const BIN = path.resolve('src/bin/sesame.js');

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

  it('keys.rotate: new tokens use the new key, tokens signed with the old one still verify', async () => {
    let srv = await startServer({ mode });
    const port = Number(new URL(srv.url).port);
    const user = await createUser(srv);
    const web = await createClient(srv, { type: 'web' });
    const login = async () => {
      const { code } = await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email: user.email,
        password: user.password,
      });
      return (
        await token(srv.url, {
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: web.redirectUri,
          client_id: web.clientId,
          client_secret: web.clientSecret,
        })
      ).body.id_token as string;
    };
    const oldToken = await login();
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const { dataDir, config } = srv;
    await srv.stop();
    const rotated = await rotateKeys(config.keysDir);
    expect(rotated.retired).toContain(oldKid);
    srv = await startServer({ mode, dataDir, port });
    try {
      const jwks = (await (await fetch(`${srv.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, ...rotated.added]));
      const newToken = await login();
      expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid);
      expect(rotated.added).toContain(decodeProtectedHeader(newToken).kid);
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

describe('configuration', () => {
  it('config.production-refuses-dev-defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cfg-'));
    try {
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dir });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('COOKIE_SECRETS');
      expect(msg).toContain('ENCRYPTION_KEY');
      expect(msg).toContain('ISSUER');
    }
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dir,
        ISSUER: 'https://id.example',
        COOKIE_SECRETS: 'changeme',
        ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
      }),
    ).toThrow(/placeholder/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dir,
        ISSUER: 'http://id.example',
        COOKIE_SECRETS: 'x'.repeat(40),
        ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
      }),
    ).toThrow(/https/);
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(/PORT[\s\S]*DATABASE_URL/);
    const secrets = {
      NODE_ENV: 'production',
      DATA_DIR: dir,
      ISSUER: 'https://id.example/',
      COOKIE_SECRETS: 'x'.repeat(40),
      ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    };
    // production.outbox-refused: reset links and SMS codes must not end up in a file by accident.
    expect(() => loadConfig(secrets)).toThrow(/SMTP_URL: required[\s\S]*SMS_GATEWAY_URL: required/);
    expect(loadConfig({ ...secrets, ALLOW_OUTBOX: 'true' }).allowOutbox).toBe(true);
    const ok = loadConfig({
      ...secrets,
      SMTP_URL: 'smtp://mail.example:587',
      SMS_GATEWAY_URL: 'https://sms.example/send',
    });
    expect(ok.issuer).toBe('https://id.example');
    expect(Object.isFrozen(ok)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'secrets.json'))).toBe(false);
  });

  it('keys.cluster-split: production never generates signing keys by itself', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-keys-'));
    const logger = createLogger('silent');
    await expect(loadKeys({ env: 'production', keysDir: dir }, logger)).rejects.toThrow(/sesame keys generate/);
    expect(fs.readdirSync(dir)).toEqual([]);
    // Outside production the first set is made (and a warning logged); production then uses it.
    const made = await loadKeys({ env: 'development', keysDir: dir }, logger);
    expect(made.map((k) => k.jwk.alg).sort()).toEqual(['ES256', 'RS256']);
    const again = await loadKeys({ env: 'production', keysDir: dir }, logger);
    expect(again.map((k) => k.jwk.kid)).toEqual(made.map((k) => k.jwk.kid));
  });

  it('the dev default generates its secrets once under DATA_DIR and keeps them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cfg-'));
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.encryptionKey.equals(b.encryptionKey)).toBe(true);
    expect(a.cookieSecrets).toEqual(b.cookieSecrets);
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o077).toBe(0);
  });

  it('a production start without secrets stops with a clear message', async () => {
    const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'production' };
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'COOKIE_SECRETS', 'ENCRYPTION_KEY', 'ISSUER']) delete env[k];
    const err = await run('node', [BIN, 'serve'], { env }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('COOKIE_SECRETS: required with NODE_ENV=production');
  });
});

/** Runs `sesame …` in this process (the same runCli the binary calls), capturing what it prints. */
async function sesame(argv: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> };
}

/** An environment for the embedded default in its own DATA_DIR, like a first `npx sesame` after npm install. */
function embeddedEnv(dataDir: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATA_DIR: dataDir,
    KEYS_DIR: path.join(dataDir, 'keys'),
    LOG_LEVEL: 'silent',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  return env;
}

describe('cli', () => {
  it('sesame user create and client create print JSON, and the server accepts both', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cli-'));
    const env = embeddedEnv(dataDir);
    const email = uniqueEmail('cli');
    const migrated = (await sesame(['migrate'], env)).json();
    expect(migrated.applied).toEqual(
      fs
        .readdirSync(MIGRATIONS_DIR)
        .filter((f) => f.endsWith('.sql'))
        .sort(),
    );
    const user = (
      await sesame(['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'Linus Torvalds'], env)
    ).json();
    expect(user).toMatchObject({
      email,
      email_verified: true,
      name: 'Linus Torvalds',
      given_name: 'Linus',
      family_name: 'Torvalds',
    });
    const client = (
      await sesame(
        [
          'client',
          'create',
          '--name',
          'Blog',
          '--type',
          'web',
          '--redirect-uri',
          'https://blog.example/openid-connect-authorize',
          '--redirect-uri',
          'https://blog.example/other',
          '--post-logout-redirect-uri',
          'https://blog.example/bye',
        ],
        env,
      )
    ).json();
    expect(client.client_id).toBeTruthy();
    expect(client.client_secret).toBeTruthy();
    expect(client.redirect_uris).toHaveLength(2);
    const dup = await sesame(['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'X'], env);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('already exists');
    const weak = await sesame(
      ['user', 'create', '--email', uniqueEmail('cli'), '--password', 'password123', '--name', 'X'],
      env,
    );
    expect(weak).toMatchObject({ code: 2, stdout: '' });
    expect(weak.stderr).toContain('--password is too common');
    const badUri = await sesame(
      ['client', 'create', '--name', 'X', '--type', 'web', '--redirect-uri', 'not-a-url'],
      env,
    );
    expect(badUri.code).toBe(2);
    expect(badUri.stderr).toContain('redirectUris');

    const keys = (await sesame(['keys', 'generate'], env)).json();
    expect(keys.created).toHaveLength(2);
    const srv = await startServer({ dataDir, keysDir: path.join(dataDir, 'keys') });
    try {
      const jwks = (await (await fetch(`${srv.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual([...keys.created].sort());
      const { code } = await authorize(new Agent(srv.url), {
        clientId: client.client_id,
        redirectUri: 'https://blog.example/openid-connect-authorize',
        email,
        password: STRONG_PASSWORD,
      });
      const t = await token(srv.url, {
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: 'https://blog.example/openid-connect-authorize',
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
      expect(t.status).toBe(200);
    } finally {
      await srv.stop();
    }
    const rotated = (await sesame(['keys', 'rotate'], env)).json();
    expect(rotated.added).toHaveLength(2);
    expect(rotated.retired.sort()).toEqual([...keys.created].sort());
  }, 120_000);

  it('sesame user reset-2fa: an administrator turns 2FA off for a user who lost phone and codes', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cli-'));
    const env = embeddedEnv(dataDir);
    const email = uniqueEmail('cli');
    const setup = await startServer({ dataDir, keysDir: path.join(dataDir, 'keys') });
    let accountId = '';
    try {
      const { account } = await createUser(setup, { email });
      accountId = account.id;
      await setup.deps.repos.secondFactors.create({ accountId, type: 'totp', name: 'Lost phone', secret: 'v1.x.y.z' });
      await setup.deps.factors.backupCodes.regenerate(accountId);
    } finally {
      await setup.stop();
    }
    const reset = await sesame(['user', 'reset-2fa', '--email', email], env);
    expect(reset.json()).toEqual({ email, second_factors_removed: 1, two_factor: 'off' });
    const mails = fs
      .readFileSync(path.join(dataDir, 'outbox', 'emails.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(mails.at(-1)).toMatchObject({ to: email, kind: 'security_mfa_disabled' });
    const unknown = await sesame(['user', 'reset-2fa', '--email', 'nobody@example.test'], env);
    expect(unknown.code).toBe(2);
    // The same service as the Security page: the change is in the user's activity log too.
    const after = await startServer({ dataDir, keysDir: path.join(dataDir, 'keys') });
    try {
      expect(await after.deps.repos.secondFactors.count(accountId)).toBe(0);
      expect(await after.deps.repos.backupCodes.remaining(accountId)).toBe(0);
      const types = (await after.deps.repos.activity.list(accountId, {}, { limit: 10, offset: 0 })).map((r) => r.type);
      expect(types).toContain('mfa_disabled');
    } finally {
      await after.stop();
    }
  }, 120_000);
});

// The server keeps running while an administrator unlocks from the command line: the account signs
// in at once, with no second lock and no second email. PostgreSQL only: the embedded database
// belongs to one process (its own test below runs the CLI with the server stopped).
const sharedStorage = process.env.DATABASE_URL
  ? ([
      ['PostgreSQL, no Redis', false],
      ['PostgreSQL + Redis', true],
    ] as const)
  : [];
describe.each(sharedStorage)('cli.unlock-with-server-running (%s)', (_name, withRedis) => {
  it('the right password signs in after sesame user unlock', async () => {
    const srv = await startServer({ mode: 'postgres', env: withRedis ? {} : { REDIS_URL: '' } });
    try {
      expect(Boolean(srv.config.redisUrl)).toBe(withRedis);
      const { account, email, password } = await createUser(srv);
      await srv.deps.repos.accounts.update(account.id, { lockoutThreshold: 3 });
      const web = await createClient(srv, { type: 'web' });
      for (let i = 0; i < 3; i++) {
        await authorize(new Agent(srv.url), {
          clientId: web.clientId,
          redirectUri: web.redirectUri,
          email,
          password: `wrong password ${i}`,
        }).catch(() => undefined);
      }
      expect((await srv.deps.repos.accounts.findById(account.id))?.lockedAt).toBeTruthy();
      const locks = () => srv.outbox().filter((m) => m.to === email && m.kind === 'account_locked').length;
      expect(locks()).toBe(1);
      const env: Record<string, string | undefined> = {
        ...process.env,
        DATA_DIR: srv.dataDir,
        KEYS_DIR: srv.config.keysDir,
        LOG_LEVEL: 'silent',
        REDIS_URL: withRedis ? process.env.REDIS_URL : undefined,
      };
      const unlocked = await sesame(['user', 'unlock', '--email', email], env);
      expect(unlocked.json()).toEqual({ email, was_locked: true, locked: false });
      const { code } = await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password,
      });
      expect(code).toBeTruthy();
      expect(locks()).toBe(1);
      expect(await failureCount(srv, 'password', account.id)).toBe(0);
    } finally {
      await srv.stop();
    }
  }, 120_000);
});

describe('cli.unlock (embedded storage, server stopped)', () => {
  it('an account locked by wrong passwords signs in after sesame user unlock', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cli-'));
    const keysDir = path.join(dataDir, 'keys');
    let srv = await startServer({ dataDir, keysDir });
    const { account, email, password } = await createUser(srv);
    await srv.deps.repos.accounts.update(account.id, { lockoutThreshold: 3 });
    const web = await createClient(srv, { type: 'web' });
    const port = Number(new URL(srv.url).port);
    for (let i = 0; i < 3; i++) {
      await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password: `wrong password ${i}`,
      }).catch(() => undefined);
    }
    expect((await srv.deps.repos.accounts.findById(account.id))?.lockedAt).toBeTruthy();
    await srv.stop();
    const unlocked = await sesame(['user', 'unlock', '--email', email], embeddedEnv(dataDir));
    expect(unlocked.json()).toEqual({ email, was_locked: true, locked: false });
    srv = await startServer({ dataDir, keysDir, port });
    try {
      const { code } = await authorize(new Agent(srv.url), {
        clientId: web.clientId,
        redirectUri: web.redirectUri,
        email,
        password,
      });
      expect(code).toBeTruthy();
      const types = (await srv.deps.repos.activity.list(account.id, {}, { limit: 10, offset: 0 })).map((r) => r.type);
      expect(types).toEqual(expect.arrayContaining(['locked', 'unlocked', 'sign_in']));
    } finally {
      await srv.stop();
    }
  }, 120_000);
});

describe('smtp', () => {
  it("SMTP_URL sends every email through SMTP, plain text and HTML, in the user's language", async () => {
    const { SMTPServer } = await import('smtp-server');
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => {
          raw += c.toString('utf8');
        });
        stream.on('end', () => {
          received.push(raw);
          callback();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    const srv = await startServer({
      env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Sesame <id@example.test>' },
    });
    try {
      const { account, email } = await createUser(srv, { locale: 'it' });
      await srv.deps.repos.accounts.update(account.id, { lockoutThreshold: 3 });
      const web = await createClient(srv, { type: 'web' });
      for (let i = 0; i < 3; i++) {
        const agent = new Agent(srv.url);
        const page = await agent.go(
          `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
        );
        await agent.submit(page, { email, password: `wrong ${i} password` }, '/login');
      }
      await expect.poll(() => received.length).toBe(1);
      const raw = received[0]!;
      expect(raw).toMatch(/^From: Sesame <id@example\.test>/m);
      expect(raw).toContain(`To: ${email}`);
      expect(raw).toMatch(
        /Subject: =\?UTF-8\?Q\?Il_tuo_account_Sesame_=C3=A8_bloccato\?=|Subject: Il tuo account Sesame è bloccato/,
      );
      expect(raw).toContain('multipart/alternative');
      expect(raw).toContain('text/plain');
      expect(raw).toContain('text/html');
      expect(srv.outbox()).toHaveLength(0); // SMTP replaces the outbox
    } finally {
      await srv.stop();
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });
});
