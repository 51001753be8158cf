// The only reader of process.env. Parsed once with zod, frozen, loud: boot lists every bad variable.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

const DEV_PLACEHOLDERS = new Set(['dev', 'changeme', 'change-me', 'secret', 'development', 'test']);

const intFrom = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  ISSUER: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('data'),
  KEYS_DIR: z.string().min(1).default('keys'),
  KEYS_REFRESH_SECONDS: intFrom(60, 1, 3600),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'letters, digits and _ : . - only, at most 64')
    .default('sesame:'),
  COOKIE_SECRETS: z.string().optional(),
  ENCRYPTION_KEY: z.string().optional(),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  ALLOW_PRIVATE_NETWORK_CALLBACKS: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAIL_FROM: z.string().min(3).default('Sesame <no-reply@localhost>'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  ALLOW_OUTBOX: z.enum(['true', 'false']).default('false'),
  ACTIVITY_RETENTION_DAYS: intFrom(365, 1, 36_500),
  RATE_LIMIT_LOGIN_PER_IP: intFrom(30, 1, 1_000_000),
  RATE_LIMIT_LOGIN_PER_ACCOUNT: intFrom(10, 1, 1_000_000),
  RATE_LIMIT_EMAIL_PER_RECIPIENT: intFrom(5, 1, 1_000_000),
  RATE_LIMIT_SIGNUP_PER_IP: intFrom(10, 1, 1_000_000),
  RATE_LIMIT_SECOND_FACTOR_PER_ACCOUNT: intFrom(10, 1, 1_000_000),
  RATE_LIMIT_SMS_PER_NUMBER: intFrom(5, 1, 1_000_000),
  RATE_LIMIT_SMS_PER_ACCOUNT: intFrom(10, 1, 1_000_000),
  RATE_LIMIT_SMS_PER_IP: intFrom(20, 1, 1_000_000),
  RATE_LIMIT_PUSH_PER_ACCOUNT: intFrom(5, 1, 1_000_000),
  RATE_LIMIT_API_PER_MINUTE: intFrom(60, 1, 1_000_000),
  PUSH_CHALLENGE_SECONDS: intFrom(120, 1, 600),
  SMS_GATEWAY_URL: z.string().url().optional(),
  SMS_GATEWAY_TOKEN: z.string().min(1).optional(),
  REAUTH_WINDOW_SECONDS: intFrom(300, 0, 3600),
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: intFrom(30, 0, 300),
  WEBAUTHN_RP_NAME: z.string().min(1).max(64).default('Sesame'),
  ARGON2_MEMORY_KIB: intFrom(19456, 19456, 4_194_304),
  ARGON2_TIME_COST: intFrom(2, 2, 100),
  STARTUP_WAIT_SECONDS: intFrom(60, 0, 3600),
  SHUTDOWN_DRAIN_SECONDS: intFrom(10, 1, 300),
  DATABASE_POOL_SIZE: intFrom(10, 1, 1000),
  /** /metrics on the main port answers only `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  /** /metrics on a port of its own (no token), on METRICS_HOST: for a scraper inside the network. */
  METRICS_PORT: intFrom(0, 0, 65535),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly dataDir: string;
  /** Where signing keys were kept before the database: imported once into an empty key table. */
  readonly keysDir: string;
  /** How often each node re-reads the signing keys (a rotation activates two intervals later). */
  readonly keysRefreshSeconds: number;
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  /** Prefix of every Redis key and channel (several deployments on one Redis). */
  readonly redisPrefix: string;
  /** Keygrip keys for signed cookies; the first one signs. */
  readonly cookieSecrets: readonly string[];
  /** 32 bytes: AES-256-GCM for secrets at rest. */
  readonly encryptionKey: Buffer;
  /** 32 bytes derived from the encryption key: HMAC-SHA-256 for client secrets and email links. */
  readonly hashKey: Buffer;
  readonly trustProxy: boolean;
  /** Let back-channel logout calls reach loopback/private addresses (intranet relying parties). */
  readonly allowPrivateNetworkCallbacks: boolean;
  readonly logLevel: string;
  readonly mailFrom: string;
  /** SMTP transport; without it, emails go to DATA_DIR/outbox/emails.jsonl. */
  readonly smtpUrl?: string;
  /** Production may write emails and SMS to the outbox only when told to (ALLOW_OUTBOX=true). */
  readonly allowOutbox: boolean;
  /** Signs the CSRF tokens of forms (derived from the encryption key). */
  readonly csrfKey: Buffer;
  /** The activity log keeps this many days. */
  readonly activityRetentionDays: number;
  readonly rateLimits: {
    readonly loginPerIp: number;
    readonly loginPerAccount: number;
    readonly emailPerRecipient: number;
    readonly signupPerIp: number;
    /** Second-factor answers per account per 15 minutes. */
    readonly secondFactorPerAccount: number;
    /** SMS sends per hour: per number, per account, per client IP. */
    readonly smsPerNumber: number;
    readonly smsPerAccount: number;
    readonly smsPerIp: number;
    /** Push approval requests per account per 15 minutes (against approval fatigue). */
    readonly pushPerAccount: number;
    /** REST API calls per minute per token (per client IP without a valid one); the same for every token. */
    readonly apiPerMinute: number;
  };
  /** How long a push approval request stays open. */
  readonly pushChallengeSeconds: number;
  /** HTTP SMS gateway (JSON POST); without it, SMS go to DATA_DIR/outbox/sms.jsonl and the log. */
  readonly smsGateway?: { readonly url: string; readonly token?: string };
  readonly webauthnRpName: string;
  /** A sign-in this recent counts as having just typed the password (security changes). */
  readonly reauthWindowSeconds: number;
  /** A consumed refresh token presented again this soon after its first use gets a new token set
   *  (a retry after a lost response) instead of revoking the grant; 0 turns the grace off. */
  readonly refreshTokenReuseGraceSeconds: number;
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number };
  /** How long a starting node retries an unreachable PostgreSQL or Redis before it gives up. */
  readonly startupWaitSeconds: number;
  /** After SIGTERM: in-flight requests get this long to finish before connections are cut. */
  readonly shutdownDrainSeconds: number;
  readonly databasePoolSize: number;
  /** Prometheus metrics: at /metrics with this bearer token, and/or on a port of their own (0: none). */
  readonly metrics: { readonly token?: string; readonly port: number; readonly host: string };
  /** Where generated dev secrets came from, for the start-up warning. */
  readonly generatedSecretsFile?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function decodeKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const b = Buffer.from(trimmed, 'base64');
  return b.length === 32 ? b : undefined;
}

interface DevSecrets {
  cookieSecrets: string[];
  encryptionKey: string;
}

/** Dev-only secrets, generated once and kept under DATA_DIR so restarts keep sessions and secrets. */
function loadOrCreateDevSecrets(dataDir: string): { secrets: DevSecrets; file: string } {
  const file = path.join(dataDir, 'secrets.json');
  if (fs.existsSync(file)) {
    return { secrets: JSON.parse(fs.readFileSync(file, 'utf8')) as DevSecrets, file };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    cookieSecrets: [crypto.randomBytes(32).toString('base64url')],
    encryptionKey: crypto.randomBytes(32).toString('base64'),
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return { secrets, file };
}

type Env = z.infer<typeof EnvSchema>;

/** Each variable on its own, so that one bad value does not hide the others: a variable that fails
 *  is reported and takes its default for the checks that follow. */
function parseEach(env: NodeJS.ProcessEnv): { e: Env; problems: string[] } {
  const problems: string[] = [];
  const e: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(EnvSchema.shape)) {
    const r = (schema as z.ZodType).safeParse(env[key]);
    if (r.success) e[key] = r.data;
    else {
      problems.push(`${key}: ${r.error.issues[0]?.message ?? 'invalid'}`);
      e[key] = (schema as z.ZodType).safeParse(undefined).data;
    }
  }
  return { e: e as Env, problems };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const { e, problems: invalid } = parseEach(env);
  // Every problem at once: a later check on a variable that is already reported says nothing more.
  const problems = {
    list: [...invalid],
    push(p: string) {
      const name = p.slice(0, p.indexOf(':') + 1);
      if (!this.list.some((q) => q === p || (invalid.includes(q) && q.startsWith(name)))) this.list.push(p);
    },
    get length() {
      return this.list.length;
    },
  };
  const production = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.DATA_DIR);

  let cookieSecrets = e.COOKIE_SECRETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let encryptionKeyRaw = e.ENCRYPTION_KEY;
  let generatedSecretsFile: string | undefined;

  if (production) {
    if (!cookieSecrets?.length)
      problems.push('COOKIE_SECRETS: required with NODE_ENV=production (comma-separated, each at least 32 characters)');
    if (!encryptionKeyRaw)
      problems.push('ENCRYPTION_KEY: required with NODE_ENV=production (32 bytes, as 64 hex characters or base64)');
    if (!e.ISSUER) problems.push('ISSUER: required with NODE_ENV=production (the public https URL of this server)');
    else if (!e.ISSUER.startsWith('https://'))
      problems.push('ISSUER: must be an https:// URL with NODE_ENV=production');
    if (e.SMS_GATEWAY_URL && !e.SMS_GATEWAY_URL.startsWith('https://'))
      problems.push('SMS_GATEWAY_URL: must be an https:// URL with NODE_ENV=production');
    // The outbox keeps reset and unlock links readable on disk: never by accident in production.
    if (e.ALLOW_OUTBOX !== 'true') {
      if (!e.SMTP_URL)
        problems.push(
          'SMTP_URL: required with NODE_ENV=production (or ALLOW_OUTBOX=true to write emails to DATA_DIR/outbox)',
        );
      if (!e.SMS_GATEWAY_URL)
        problems.push(
          'SMS_GATEWAY_URL: required with NODE_ENV=production (or ALLOW_OUTBOX=true to write text messages to DATA_DIR/outbox)',
        );
    }
  } else if (!cookieSecrets?.length || !encryptionKeyRaw) {
    const { secrets, file } = loadOrCreateDevSecrets(dataDir);
    cookieSecrets = cookieSecrets?.length ? cookieSecrets : secrets.cookieSecrets;
    encryptionKeyRaw = encryptionKeyRaw ?? secrets.encryptionKey;
    generatedSecretsFile = file;
  }

  for (const s of cookieSecrets ?? []) {
    if (DEV_PLACEHOLDERS.has(s.toLowerCase())) problems.push('COOKIE_SECRETS: a dev-only placeholder value is refused');
    else if (s.length < 32) problems.push('COOKIE_SECRETS: each secret must be at least 32 characters');
  }
  let encryptionKey: Buffer | undefined;
  if (encryptionKeyRaw) {
    encryptionKey = decodeKey(encryptionKeyRaw);
    if (!encryptionKey) problems.push('ENCRYPTION_KEY: must be 32 bytes, as 64 hex characters or base64');
  }
  if (problems.length) throw new ConfigError(problems.list);

  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  if (!encryptionKey) throw new ConfigError(['ENCRYPTION_KEY: missing']);
  const hashKey = Buffer.from(crypto.hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'sesame/hmac/v1', 32));
  const csrfKey = Buffer.from(crypto.createHmac('sha256', hashKey).update('csrf-key').digest('base64url'));

  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    dataDir,
    keysDir: path.resolve(e.KEYS_DIR),
    keysRefreshSeconds: e.KEYS_REFRESH_SECONDS,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    cookieSecrets: Object.freeze([...(cookieSecrets ?? [])]),
    encryptionKey,
    hashKey,
    csrfKey,
    trustProxy: e.TRUST_PROXY === 'true',
    allowPrivateNetworkCallbacks: e.ALLOW_PRIVATE_NETWORK_CALLBACKS === 'true',
    logLevel: e.LOG_LEVEL,
    mailFrom: e.MAIL_FROM,
    smtpUrl: e.SMTP_URL,
    allowOutbox: e.ALLOW_OUTBOX === 'true',
    activityRetentionDays: e.ACTIVITY_RETENTION_DAYS,
    rateLimits: Object.freeze({
      loginPerIp: e.RATE_LIMIT_LOGIN_PER_IP,
      loginPerAccount: e.RATE_LIMIT_LOGIN_PER_ACCOUNT,
      emailPerRecipient: e.RATE_LIMIT_EMAIL_PER_RECIPIENT,
      signupPerIp: e.RATE_LIMIT_SIGNUP_PER_IP,
      secondFactorPerAccount: e.RATE_LIMIT_SECOND_FACTOR_PER_ACCOUNT,
      smsPerNumber: e.RATE_LIMIT_SMS_PER_NUMBER,
      smsPerAccount: e.RATE_LIMIT_SMS_PER_ACCOUNT,
      smsPerIp: e.RATE_LIMIT_SMS_PER_IP,
      pushPerAccount: e.RATE_LIMIT_PUSH_PER_ACCOUNT,
      apiPerMinute: e.RATE_LIMIT_API_PER_MINUTE,
    }),
    pushChallengeSeconds: e.PUSH_CHALLENGE_SECONDS,
    smsGateway: e.SMS_GATEWAY_URL ? Object.freeze({ url: e.SMS_GATEWAY_URL, token: e.SMS_GATEWAY_TOKEN }) : undefined,
    webauthnRpName: e.WEBAUTHN_RP_NAME,
    reauthWindowSeconds: e.REAUTH_WINDOW_SECONDS,
    refreshTokenReuseGraceSeconds: e.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    argon2: Object.freeze({ memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST }),
    startupWaitSeconds: e.STARTUP_WAIT_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    metrics: Object.freeze({ token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST }),
    generatedSecretsFile,
  });
}
