// `sesame` — the command line, using the same DATA_DIR / DATABASE_URL as the server. JSON on stdout.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { rotateKeys } from '../oidc/keys.ts';
import { checkPasswordPolicy } from '../factors/password.ts';
import { createLogger } from '../lib/logger.ts';
import { createMailer } from '../notify/mailer.ts';
import { emails } from '../notify/emails.ts';
import { isLocale } from '../http/i18n.ts';
import { deviceCli, DEVICE_USAGE } from './device.ts';

const USAGE = `Usage: sesame <command>

  serve                                   start the server (what npm start runs)
  migrate                                 apply database migrations
  keys rotate                             publish new signing keys, retire the current ones
  user create --email E --password P --name N [--given-name G] [--family-name F] [--locale L] [--zoneinfo Z]
  user unlock --email E                   unlock an account locked after failed attempts
  user reset-2fa --email E                remove every second factor and backup code (lost phone and codes);
                                          the user is emailed, and signs in with the password alone
  client create --name N --type web|spa|service [--redirect-uri U ...]
                [--post-logout-redirect-uri U ...] [--backchannel-logout-uri U]
${DEVICE_USAGE}`;

class UsageError extends Error {}

function out(value: unknown) {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

async function run(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help') { process.stdout.write(USAGE); return cmd ? 0 : 1; }
  if (cmd === 'serve') {
    const { serve } = await import('../main.ts');
    await serve();
    return -1; // keep running
  }
  // The reference device is a client of the public API: no configuration, no database.
  if (cmd === 'device') return deviceCli([sub ?? '', ...rest].filter(Boolean), out, (m) => new UsageError(m));
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  // Loaded on demand: `sesame device …` and `sesame help` need none of it.
  const { createCoreDeps } = await import('../deps.ts');

  if (cmd === 'migrate') {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try { out({ applied: await migrate(database) }); } finally { await database.close(); }
    return 0;
  }
  if (cmd === 'keys' && sub === 'rotate') {
    out({ ...(await rotateKeys(config.keysDir)), note: 'restart every Sesame node to start signing with the new keys' });
    return 0;
  }
  if (cmd === 'user' && sub === 'create') {
    const { values } = parseArgs({ args: rest, options: {
      email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' },
      'given-name': { type: 'string' }, 'family-name': { type: 'string' }, locale: { type: 'string' }, zoneinfo: { type: 'string' },
    }, strict: true });
    if (!values.email || !values.password || !values.name) throw new UsageError('user create needs --email, --password and --name');
    if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) throw new UsageError('--email is not an email address');
    const problem = checkPasswordPolicy(values.password, [values.email.split('@')[0]!]);
    if (problem) throw new UsageError(problem === 'common_password' ? '--password is too common' : '--password must be 10 to 256 characters with some variety');
    const [given, ...fam] = values.name.trim().split(/\s+/);
    const deps = await createCoreDeps(config, { logger });
    try {
      const account = await deps.repos.accounts.create({
        email: values.email,
        passwordHash: await deps.password.hash(values.password),
        name: values.name.trim(),
        givenName: values['given-name'] ?? given ?? null,
        familyName: values['family-name'] ?? (fam.join(' ') || null),
        locale: values.locale && ['en', 'fr', 'de', 'it', 'es'].includes(values.locale) ? values.locale : 'en',
        zoneinfo: values.zoneinfo ?? 'UTC',
        emailVerified: true,
      });
      if (!account) throw new UsageError('an account with this email already exists');
      out({ id: account.id, sub: account.id, email: account.email, email_verified: account.emailVerified, name: account.name, given_name: account.givenName, family_name: account.familyName });
    } finally { await deps.close(); }
    return 0;
  }
  if (cmd === 'user' && sub === 'unlock') {
    const { values } = parseArgs({ args: rest, options: { email: { type: 'string' } }, strict: true });
    if (!values.email) throw new UsageError('user unlock needs --email');
    const deps = await createCoreDeps(config, { logger });
    const { createMemoryStore } = await import('../store/memory-store.ts');
    const { createRedisStore } = await import('../store/redis-store.ts');
    const { createFailureCounter } = await import('../factors/failure-counter.ts');
    const { createLockout } = await import('../account/lockout.ts');
    const store = config.redisUrl ? await createRedisStore(config.redisUrl) : createMemoryStore();
    try {
      const account = await deps.repos.accounts.findByEmail(values.email);
      if (!account) throw new UsageError('no account with this email');
      const mailer = createMailer(config, logger);
      const lockout = createLockout({ config, accounts: deps.repos.accounts, failures: createFailureCounter(store), tokens: deps.repos.oneTimeTokens, activity: deps.repos.activity, mailer });
      const was = await lockout.unlock(account.id, 'cli');
      out({ email: account.email, was_locked: was, locked: false });
    } finally { await store.close(); await deps.close(); }
    return 0;
  }
  if (cmd === 'user' && sub === 'reset-2fa') {
    const { values } = parseArgs({ args: rest, options: { email: { type: 'string' } }, strict: true });
    if (!values.email) throw new UsageError('user reset-2fa needs --email');
    const deps = await createCoreDeps(config, { logger });
    try {
      const account = await deps.repos.accounts.findByEmail(values.email);
      if (!account) throw new UsageError('no account with this email');
      const removed = (await deps.repos.secondFactors.deleteAll(account.id)).length;
      await deps.repos.backupCodes.deleteAll(account.id);
      if (removed) {
        await createMailer(config, logger).send(emails.securityChange(isLocale(account.locale) ? account.locale : 'en', account.zoneinfo, account.email, { change: 'mfa_disabled', when: new Date(), link: `${config.issuer}/account/security` }));
      }
      out({ email: account.email, second_factors_removed: removed, two_factor: 'off' });
    } finally { await deps.close(); }
    return 0;
  }
  if (cmd === 'client' && sub === 'create') {
    const { values } = parseArgs({ args: rest, options: {
      name: { type: 'string' }, type: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true }, 'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
    }, strict: true });
    const deps = await createCoreDeps(config, { logger });
    try {
      const parsed = deps.applications.schema.safeParse({
        name: values.name ?? '', type: values.type,
        redirectUris: values['redirect-uri'] ?? [], postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        backchannelLogoutUri: values['backchannel-logout-uri'] ?? null,
      });
      if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
      const { app, clientSecret } = await deps.applications.create(null, parsed.data);
      out({
        client_id: app.clientId,
        ...(clientSecret ? { client_secret: clientSecret } : {}),
        name: app.name, type: app.type,
        redirect_uris: app.redirectUris, post_logout_redirect_uris: app.postLogoutRedirectUris,
        token_endpoint_auth_method: app.type === 'spa' ? 'none' : 'client_secret_basic (client_secret_post accepted)',
        issuer: config.issuer, discovery: `${config.issuer}/.well-known/openid-configuration`,
      });
    } finally { await deps.close(); }
    return 0;
  }
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

export async function cli(argv: string[]) {
  try {
    const code = await run(argv);
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`sesame: ${(err as Error).message}\n\n${err instanceof UsageError ? USAGE : ''}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
