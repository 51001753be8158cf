// Boots the real app in-process on a random port: PostgreSQL + Redis when DATABASE_URL / REDIS_URL
// are set (CI), PGlite + the in-process store otherwise. Tests then speak HTTP to it.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';
import { createDeps, type Deps } from '../../src/deps.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { testClock } from './clock.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { afterResponse } from './agent.ts';
import type { AppType } from '../../src/db/schema.ts';

export type StorageMode = 'embedded' | 'postgres';

/** The ENCRYPTION_KEY of every test server and node on a PostgreSQL database (test only). */
export const TEST_ENCRYPTION_KEY = crypto.createHash('sha256').update('sesame test encryption key').digest('hex');

/** The storage modes this run can test: always the embedded default, plus PostgreSQL + Redis when given.
 *  TEST_STORAGE_MODES=postgres keeps only PostgreSQL + Redis (CI's second run, on Node 22: the
 *  embedded default was tested on Node 20 in the same CI run). */
export function storageModes(): StorageMode[] {
  const both: StorageMode[] =
    process.env.DATABASE_URL && process.env.REDIS_URL ? ['embedded', 'postgres'] : ['embedded'];
  return process.env.TEST_STORAGE_MODES === 'postgres' && both.includes('postgres') ? ['postgres'] : both;
}

/** The one mode a long feature suite runs in: PostgreSQL + Redis when given (what production runs),
 *  else the embedded default. The SQL is the same in both (one dialect, one schema); the rest of
 *  the suite and the migration tests run both, and CI has a time budget. */
export function primaryStorageMode(): StorageMode[] {
  return storageModes().slice(-1);
}

export interface TestServer {
  url: string;
  deps: Deps;
  config: Config;
  dataDir: string;
  mode: StorageMode;
  /** Emails written to the outbox so far. */
  outbox(): Array<{ to: string; subject: string; text: string; html: string; kind: string }>;
  /** SMS written to the SMS outbox so far. */
  smsOutbox(): Array<{ to: string; text: string; kind: string }>;
  /** Resolves once every email and SMS sent after an answer has gone out (an Agent waits by itself;
   *  a browser test calls this before reading the outbox). */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  mode?: StorageMode;
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  keysDir?: string;
  storePrefix?: string;
  port?: number;
  /** Receives every log line (JSON) instead of stdout. */
  logTo?: { write(line: string): void };
}

/** A migrated, closed PGlite database, made once per test process: a fresh embedded server starts
 *  from a copy of it (0.4 s) instead of initialising PostgreSQL in WebAssembly (about 5 s). The first
 *  start on an empty DATA_DIR is still tested, by the command-line tests. */
let template: Promise<string> | undefined;
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-pglite-template-'));
    const database = await openDatabase({ dataDir: dir });
    await migrate(database);
    await database.close();
    return path.join(dir, 'pglite');
  })();
  return template;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const mode = opts.mode ?? 'embedded';
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-test-'));
  const pgliteDir = path.join(dataDir, 'pglite');
  if (mode === 'embedded' && !opts.env?.DATABASE_URL && !fs.existsSync(pgliteDir)) {
    fs.cpSync(await pgliteTemplate(), pgliteDir, { recursive: true });
  }
  const keysDir = opts.keysDir ?? path.join(dataDir, 'keys');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    ISSUER: url,
    PORT: String(port),
    DATA_DIR: dataDir,
    KEYS_DIR: keysDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_LOGIN_PER_IP: '1000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000',
    RATE_LIMIT_SIGNUP_PER_IP: '1000',
    RATE_LIMIT_EMAIL_PER_RECIPIENT: '1000',
    RATE_LIMIT_SECOND_FACTOR_PER_ACCOUNT: '1000',
    RATE_LIMIT_SMS_PER_NUMBER: '1000',
    RATE_LIMIT_SMS_PER_ACCOUNT: '1000',
    RATE_LIMIT_SMS_PER_IP: '1000',
    RATE_LIMIT_PUSH_PER_ACCOUNT: '1000',
    RATE_LIMIT_API_PER_MINUTE: '100000',
    ...(mode === 'postgres' ? { DATABASE_URL: process.env.DATABASE_URL!, REDIS_URL: process.env.REDIS_URL! } : {}),
    ...opts.env,
  };
  // An empty value unsets a variable (e.g. REDIS_URL: '' for PostgreSQL without Redis).
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
  // Servers on one PostgreSQL database share its signing keys: one ENCRYPTION_KEY opens them, as in
  // a real cluster. Written as the DATA_DIR's dev secrets, so that the command line run on the same
  // DATA_DIR uses it too.
  const secretsFile = path.join(dataDir, 'secrets.json');
  if (env.DATABASE_URL && !env.ENCRYPTION_KEY && !fs.existsSync(secretsFile)) {
    const cookieSecrets = [crypto.randomBytes(32).toString('base64url')];
    fs.writeFileSync(secretsFile, JSON.stringify({ cookieSecrets, encryptionKey: TEST_ENCRYPTION_KEY }), {
      mode: 0o600,
    });
  }
  const config = loadConfig(env);
  const deps = await createDeps(config, {
    logger: createLogger(config.logLevel, opts.logTo),
    clock: testClock,
    storePrefix: opts.storePrefix ?? `sesame-test:${crypto.randomBytes(6).toString('hex')}:`,
  });
  const app = createApp(deps);
  server.on('request', app.callback());
  afterResponse.set(url, () => deps.deferred.idle());
  const jsonl = (file: string) =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  return {
    url,
    deps,
    config,
    dataDir,
    mode,
    outbox: () => jsonl(path.join(dataDir, 'outbox', 'emails.jsonl')),
    smsOutbox: () => jsonl(path.join(dataDir, 'outbox', 'sms.jsonl')),
    drained: () => deps.deferred.idle(),
    async stop() {
      afterResponse.delete(url);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
    },
  };
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}@example.test`;
}

export const STRONG_PASSWORD = 'correct horse battery staple 42';

/** Creates a verified account straight through the repository (what `sesame user create` does). */
export async function createUser(
  srv: TestServer,
  over: Partial<{
    email: string;
    password: string;
    name: string;
    givenName: string;
    familyName: string;
    emailVerified: boolean;
    locale: string;
  }> = {},
) {
  const email = over.email ?? uniqueEmail();
  const password = over.password ?? STRONG_PASSWORD;
  const account = await srv.deps.repos.accounts.create({
    email,
    passwordHash: await srv.deps.password.hash(password),
    name: over.name ?? 'Ada Lovelace',
    givenName: over.givenName ?? 'Ada',
    familyName: over.familyName ?? 'Lovelace',
    emailVerified: over.emailVerified ?? true,
    locale: over.locale ?? 'en',
  });
  return { account: account!, email, password };
}

export async function createClient(
  srv: TestServer,
  input: {
    type: AppType;
    redirectUris?: string[];
    postLogoutRedirectUris?: string[];
    backchannelLogoutUri?: string;
    name?: string;
  },
) {
  const { app, clientSecret } = await srv.deps.applications.create(null, {
    name: input.name ?? 'Test site',
    type: input.type,
    redirectUris:
      input.redirectUris ??
      (input.type === 'service' || input.type === 'mail_server' ? [] : ['https://rp.example/openid-connect-authorize']),
    postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
    backchannelLogoutUri: input.backchannelLogoutUri ?? null,
  });
  return { clientId: app.clientId, clientSecret: clientSecret!, app, redirectUri: app.redirectUris[0]! };
}

/** The failed attempts the lockout counts for an account, as stored (its accounts row). */
export async function failureCount(
  srv: TestServer,
  kind: 'password' | 'second_factor',
  accountId: string,
): Promise<number> {
  const account = await srv.deps.repos.accounts.findById(accountId);
  if (!account) throw new Error(`no account ${accountId}`);
  return kind === 'password' ? account.failedPasswords : account.failedSecondFactors;
}
