// The command line, in this process (runCli is what the binary runs): users, clients, keys, unlock, 2FA reset.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  startServer,
  createUser,
  createClient,
  uniqueEmail,
  failureCount,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, authorize } from './helpers/agent.ts';
import { MIGRATIONS_DIR } from '../src/db/migrate.ts';
import { runCli } from '../src/cli/main.ts';
import { OPERATOR_ORGANIZATION_ID } from '../src/db/repositories/organizations.ts';

async function token(url: string, form: Record<string, string>) {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

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
    const dup = await sesame(['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'X Y'], env);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('already exists');
    const weak = await sesame(
      ['user', 'create', '--email', uniqueEmail('cli'), '--password', 'password123', '--name', 'X Y'],
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
    expect((await sesame(['keys', 'generate'], env)).json()).toMatchObject({ created: [], imported: [] });
    // New keys sign two refresh intervals later (every node publishes them first): no sooner.
    const tooSoon = await sesame(['keys', 'rotate', '--activate-in', '119'], env);
    expect(tooSoon.code).toBe(2);
    expect(tooSoon.stderr).toContain('--activate-in must be whole seconds, at least 120 (2 x KEYS_REFRESH_SECONDS)');
    const rotated = (await sesame(['keys', 'rotate'], env)).json();
    expect(rotated.added).toHaveLength(2);
    expect(rotated.retired.sort()).toEqual([...keys.created].sort());
    expect(Date.parse(rotated.activates_at) - Date.now()).toBeGreaterThan(110_000);
    const listed = (await sesame(['keys', 'list'], env)).json() as unknown as Array<Record<string, string>>;
    expect(listed.map((k) => [k.kid, k.alg, k.state])).toEqual([
      [keys.published[0], 'RS256', 'active'],
      [keys.published[1], 'ES256', 'active'],
      [rotated.added[0], 'RS256', 'pending'],
      [rotated.added[1], 'ES256', 'pending'],
    ]);
    expect(listed[0]).toMatchObject({ retired_at: rotated.activates_at, activates_at: expect.any(String) });
    expect(JSON.stringify(listed)).not.toMatch(/"d"|"p"|"q"/);
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
    expect(reset.json()).toEqual({ email, second_factors_removed: 1, app_passwords_revoked: 0, two_factor: 'off' });
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

/** Three wrong passwords: enough to lock an account whose threshold is 3. */
async function lockWithWrongPasswords(srv: TestServer, web: { clientId: string; redirectUri: string }, email: string) {
  for (let i = 0; i < 3; i++) {
    const attempt = { clientId: web.clientId, redirectUri: web.redirectUri, email, password: `wrong password ${i}` };
    await authorize(new Agent(srv.url), attempt).catch(() => undefined);
  }
}

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
      await lockWithWrongPasswords(srv, web, email);
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

describe('cli.org (embedded storage)', () => {
  it('sesame org create, list, add-member and set-role print JSON; the last legal representative stays; client create --org', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cli-org-'));
    const env = embeddedEnv(dataDir);
    const run = (...argv: string[]) => sesame(argv, env);
    const refused = async (argv: string[], message: string) => {
      const r = await run(...argv);
      expect(r, argv.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain(message);
    };
    const alice = uniqueEmail('alice');
    const bob = uniqueEmail('bob');
    for (const [email, name] of [
      [alice, 'Alice Martin'],
      [bob, 'Bob Keller'],
    ] as const)
      expect((await run('user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', name)).code).toBe(
        0,
      );

    // `sesame user create` makes the personal organization, like sign-up.
    const personal = (await run('org', 'list', '--email', alice)).json() as unknown as Array<Record<string, unknown>>;
    expect(personal.map((o) => [o.name, o.type, o.role, o.blocked])).toEqual([
      ['Alice Martin', 'personal', 'legal_representative', false],
    ]);

    const acme = (await run('org', 'create', '--name', 'Acme SA', '--owner', alice)).json();
    expect(acme).toMatchObject({ name: 'Acme SA', type: 'company', legal_representative: alice, address: null });
    expect((await run('org', 'create', '--name', 'Club', '--type', 'association', '--owner', bob)).json().type).toBe(
      'association',
    );
    await refused(['org', 'create', '--name', 'X', '--type', 'cooperative', '--owner', alice], '--type must be one of');
    await refused(['org', 'create', '--name', 'X', '--owner', uniqueEmail('nobody')], 'no account with this email');
    await refused(['org', 'create', '--owner', alice], 'org create needs --name and --owner');

    const member = ['--org', acme.id, '--email'];
    expect((await run('org', 'add-member', ...member, bob, '--role', 'collaborator')).json()).toEqual({
      organization_id: acme.id,
      email: bob,
      role: 'collaborator',
    });
    await refused(['org', 'add-member', ...member, bob, '--role', 'administrator'], 'already a member');
    await refused(['org', 'add-member', ...member, bob, '--role', 'owner'], '--role must be one of');
    await refused(['org', 'add-member', '--org', 'not-an-id', '--email', bob, '--role', 'external'], 'no organization');
    await refused(
      ['org', 'add-member', '--org', crypto.randomUUID(), '--email', bob, '--role', 'external'],
      'no organization',
    );

    // Alice is the last legal representative: she stays one until Bob is one too.
    await refused(['org', 'set-role', ...member, alice, '--role', 'administrator'], 'last legal representative');
    expect((await run('org', 'set-role', ...member, bob, '--role', 'legal_representative')).json()).toMatchObject({
      previous_role: 'collaborator',
      role: 'legal_representative',
    });
    expect((await run('org', 'set-role', ...member, alice, '--role', 'administrator')).json()).toMatchObject({
      previous_role: 'legal_representative',
      role: 'administrator',
    });
    await refused(['org', 'set-role', ...member, bob, '--role', 'external'], 'last legal representative');
    await refused(
      ['org', 'set-role', '--org', acme.id, '--email', uniqueEmail('x'), '--role', 'external'],
      'no account',
    );
    const carol = uniqueEmail('carol');
    await run('user', 'create', '--email', carol, '--password', STRONG_PASSWORD, '--name', 'Carol Roth');
    await refused(['org', 'set-role', ...member, carol, '--role', 'external'], 'not a member');

    // Applications go into the organization named, or the operator's.
    const inAcme = (await run('client', 'create', '--name', 'Intranet', '--type', 'service', '--org', acme.id)).json();
    expect(inAcme.organization_id).toBe(acme.id);
    const operator = (await run('client', 'create', '--name', 'Cron', '--type', 'service')).json();
    expect(operator.organization_id).toBe(OPERATOR_ORGANIZATION_ID);
    await refused(
      ['client', 'create', '--name', 'X', '--type', 'service', '--org', crypto.randomUUID()],
      'no organization',
    );

    const all = (await run('org', 'list')).json() as unknown as Array<Record<string, unknown>>;
    expect(all.find((o) => o.id === acme.id)).toMatchObject({ name: 'Acme SA', members: 2, applications: 1 });
    expect(all.find((o) => o.id === OPERATOR_ORGANIZATION_ID)).toMatchObject({
      name: 'Operator',
      members: 0,
      applications: 1,
    });
    const bobs = (await run('org', 'list', '--email', bob)).json() as unknown as Array<Record<string, unknown>>;
    expect(bobs.map((o) => [o.name, o.role])).toEqual([
      ['Bob Keller', 'legal_representative'],
      ['Acme SA', 'legal_representative'],
      ['Club', 'legal_representative'],
    ]);
    expect((await run('help')).stdout).toContain('org set-role --org ID --email E --role R');

    // The organization's client authenticates at the server.
    const srv = await startServer({ dataDir, keysDir: path.join(dataDir, 'keys') });
    const credentials = { client_id: inAcme.client_id, client_secret: inAcme.client_secret };
    const answer = await token(srv.url, { grant_type: 'client_credentials', ...credentials }).finally(() => srv.stop());
    expect(answer.status).toBe(200);
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
    await lockWithWrongPasswords(srv, web, email);
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
