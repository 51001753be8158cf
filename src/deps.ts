// The one wiring point: database, store, repositories, services, mailer, keys, provider.
import path from 'node:path';
import type Provider from 'oidc-provider';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { openDatabase, type Database } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import type { Store } from './store/store.ts';
import { createMemoryStore } from './store/memory-store.ts';
import { createRedisStore } from './store/redis-store.ts';
import { createAccountsRepo } from './db/repositories/accounts.ts';
import { createApplicationsRepo } from './db/repositories/applications.ts';
import { createOneTimeTokensRepo } from './db/repositories/one-time-tokens.ts';
import { createSecondFactorsRepo } from './db/repositories/second-factors.ts';
import { createBackupCodesRepo } from './db/repositories/backup-codes.ts';
import { createActivityRepo } from './db/repositories/activity.ts';
import { createSessionInfoRepo } from './db/repositories/session-info.ts';
import { createSessions } from './account/sessions.ts';
import { createProfileService } from './account/profile-service.ts';
import { createRecovery } from './account/recovery.ts';
import { createKnownDevicesRepo } from './db/repositories/known-devices.ts';
import { createAlerts } from './account/alerts.ts';
import { describeBrowser } from './lib/user-agent.ts';
import { createLockout } from './account/lockout.ts';
import { loadOrCreateKeys } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { createFindAccount } from './oidc/account.ts';
import { applicationToClient, accountClient, ACCOUNT_CLIENT_ID } from './oidc/clients.ts';
import { providerPages } from './oidc/pages.ts';
import { createPasswordFactor } from './factors/password.ts';
import { createRateLimiter } from './http/rate-limit.ts';
import { createCsrf } from './http/csrf.ts';
import { createMailer, type Mailer } from './notify/mailer.ts';
import { createLoginAttempt } from './interaction/login-attempt.ts';
import { createSecondStep } from './interaction/second-step.ts';
import { createFinisher } from './interaction/finish.ts';
import { createFailureCounter } from './factors/failure-counter.ts';
import { createTotpFactor } from './factors/totp.ts';
import { createWebauthnFactor } from './factors/webauthn.ts';
import { createSmsFactor } from './factors/sms.ts';
import { createBackupCodesFactor } from './factors/backup-codes.ts';
import { createPushFactor } from './factors/push.ts';
import { createStorePushTransport, type PushTransport } from './notify/push-transport.ts';
import { createDeviceAuth } from './api/device-auth.ts';
import { emails } from './notify/emails.ts';
import { isLocale } from './http/i18n.ts';
import { createOutboxSms, createHttpSmsGateway, type SmsTransport } from './notify/sms.ts';
import { createSecurityService } from './account/security-service.ts';
import { createReauth } from './account/reauth.ts';
import { createEmailVerification } from './account/email-verification.ts';
import { createApplicationsService } from './account/applications-service.ts';
import { hmac } from './lib/crypto.ts';
import { createClientCache } from './oidc/client-cache.ts';

/** Every repository over one database; their type is read off this function. */
function createRepos(db: Database['db']) {
  return {
    accounts: createAccountsRepo(db),
    applications: createApplicationsRepo(db),
    oneTimeTokens: createOneTimeTokensRepo(db),
    secondFactors: createSecondFactorsRepo(db),
    backupCodes: createBackupCodesRepo(db),
    activity: createActivityRepo(db),
    sessionInfo: createSessionInfoRepo(db),
    knownDevices: createKnownDevicesRepo(db),
  };
}
export type Repos = ReturnType<typeof createRepos>;

export interface CoreDeps {
  config: Config;
  logger: Logger;
  database: Database;
  repos: Repos;
  password: ReturnType<typeof createPasswordFactor>;
  applications: ReturnType<typeof createApplicationsService>;
  close(): Promise<void>;
}

/** Database, repositories and the services the CLI needs too (no store, no provider). */
export async function createCoreDeps(config: Config, opts: { logger?: Logger; migrate?: boolean } = {}): Promise<CoreDeps> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  if (opts.migrate !== false) {
    const applied = await migrate(database);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  }
  const repos = createRepos(database.db);
  return {
    config,
    logger,
    database,
    repos,
    password: createPasswordFactor(config.argon2),
    applications: createApplicationsService({ config, repo: repos.applications }),
    close: () => database.close(),
  };
}

export interface Deps extends CoreDeps {
  store: Store;
  provider: Provider;
  mailer: Mailer;
  csrf: ReturnType<typeof createCsrf>;
  limiter: ReturnType<typeof createRateLimiter>;
  loginAttempt: ReturnType<typeof createLoginAttempt>;
  verification: ReturnType<typeof createEmailVerification>;
  sms: SmsTransport;
  failures: ReturnType<typeof createFailureCounter>;
  lockout: ReturnType<typeof createLockout>;
  sessions: ReturnType<typeof createSessions>;
  factors: {
    totp: ReturnType<typeof createTotpFactor>;
    webauthn: ReturnType<typeof createWebauthnFactor>;
    sms: ReturnType<typeof createSmsFactor>;
    backupCodes: ReturnType<typeof createBackupCodesFactor>;
    push: ReturnType<typeof createPushFactor>;
  };
  pushTransport: PushTransport;
  deviceAuth: ReturnType<typeof createDeviceAuth>;
  secondStep: ReturnType<typeof createSecondStep>;
  finish: ReturnType<typeof createFinisher>;
  security: ReturnType<typeof createSecurityService>;
  reauth: ReturnType<typeof createReauth>;
  profile: ReturnType<typeof createProfileService>;
  recovery: ReturnType<typeof createRecovery>;
}

export async function createDeps(config: Config, opts: { logger?: Logger; mailer?: Mailer; sms?: SmsTransport; storePrefix?: string } = {}): Promise<Deps> {
  const core = await createCoreDeps(config, opts);
  const { logger, repos } = core;
  const store = config.redisUrl ? await createRedisStore(config.redisUrl, opts.storePrefix) : createMemoryStore();
  const { keys, created } = await loadOrCreateKeys(config.keysDir);
  if (created.length) logger.info({ created, dir: config.keysDir }, 'signing keys generated');

  const clients = createClientCache(async (clientId) => {
    if (clientId === ACCOUNT_CLIENT_ID) return accountClient(config.issuer);
    const app = await repos.applications.findByClientId(clientId);
    return app ? applicationToClient(app) : undefined;
  });
  repos.applications.onChange = (clientId) => clients.invalidate(clientId);
  const provider = createProvider({
    config,
    keys,
    db: core.database.db,
    store,
    findAccount: createFindAccount(repos.accounts),
    findClient: (clientId) => clients.find(clientId),
    pages: providerPages,
  });
  const sessions = createSessions({ provider, repo: repos.sessionInfo, activity: repos.activity, logger });
  // Each authorization a session serves marks it active, with the browser and address it came from.
  provider.on('authorization.accepted', (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId || !session.uid) return;
    sessions.touch(session.uid, session.accountId, ctx.ip, describeBrowser(ctx.get('User-Agent'))).catch((err: unknown) => logger.warn({ err: String(err) }, 'session info not saved'));
  });
  provider.on('server_error', (_ctx, err) => logger.error({ err }, 'oidc-provider server_error'));
  provider.on('backchannel.error', (_ctx, err, client) => logger.warn({ err: String(err), client: client.clientId }, 'back-channel logout failed'));

  const mailer = opts.mailer ?? createMailer(config, logger);
  const limiter = createRateLimiter(store);
  const csrf = createCsrf(Buffer.from(hmac(config.hashKey, 'csrf-key')));
  const failures = createFailureCounter(store);
  const lockout = createLockout({ config, accounts: repos.accounts, failures, tokens: repos.oneTimeTokens, activity: repos.activity, mailer });
  const alerts = createAlerts({ config, accounts: repos.accounts, known: repos.knownDevices, mailer, limiter });
  const loginAttempt = createLoginAttempt({
    accounts: repos.accounts, password: core.password, limiter, config, lockout, activity: repos.activity,
    onWrongPassword: (account, info) => alerts.afterWrongPassword(account, info),
  });
  const verification = createEmailVerification({ config, tokens: repos.oneTimeTokens, accounts: repos.accounts, mailer, limiter });

  const sms = opts.sms ?? (config.smsGateway
    ? createHttpSmsGateway({ url: config.smsGateway.url, token: config.smsGateway.token, logger })
    : createOutboxSms({ dir: path.join(config.dataDir, 'outbox'), logger }));
  const issuerHost = new URL(config.issuer).host;
  const pushTransport = createStorePushTransport(store);
  const factors = {
    totp: createTotpFactor({ repo: repos.secondFactors, store, encryptionKey: config.encryptionKey, issuerName: config.webauthnRpName }),
    webauthn: createWebauthnFactor({ repo: repos.secondFactors, store, issuer: config.issuer, rpName: config.webauthnRpName, hashKey: config.hashKey }),
    sms: createSmsFactor({
      repo: repos.secondFactors, store, limiter, transport: sms, encryptionKey: config.encryptionKey, hashKey: config.hashKey, issuerHost,
      limits: { perNumber: config.rateLimits.smsPerNumber, perAccount: config.rateLimits.smsPerAccount, perIp: config.rateLimits.smsPerIp },
      onSendError: (err) => logger.error({ err: String(err) }, 'SMS could not be sent'),
    }),
    backupCodes: createBackupCodesFactor({ repo: repos.backupCodes, hashKey: config.hashKey }),
    push: createPushFactor({
      repo: repos.secondFactors, store, limiter, failures, transport: pushTransport,
      encryptionKey: config.encryptionKey, hashKey: config.hashKey, issuer: config.issuer,
      challengeSeconds: config.pushChallengeSeconds, perAccount: config.rateLimits.pushPerAccount,
      async onNotMe(accountId, challenge) {
        const account = await repos.accounts.findById(accountId);
        if (!account) return;
        await mailer.send(emails.pushDenied(isLocale(account.locale) ? account.locale : 'en', account.zoneinfo, account.email, {
          app: challenge.app, browser: challenge.browser, ip: challenge.ip, when: new Date(challenge.created_at), link: `${config.issuer}/account/security`,
        }));
      },
    }),
  };
  const deviceAuth = createDeviceAuth({ repo: repos.secondFactors, store, issuer: config.issuer });
  // The login's second step knows factors only through their common interface.
  const secondStep = createSecondStep({
    store, repo: repos.secondFactors, limiter, lockout, accounts: repos.accounts, activity: repos.activity,
    factors: [factors.push, factors.totp, factors.webauthn, factors.sms, factors.backupCodes],
    limits: { perAccount: config.rateLimits.secondFactorPerAccount, perIp: config.rateLimits.loginPerIp },
  });
  const finish = createFinisher({
    provider, secondFactorRequired: (id) => secondStep.required(id), failures, activity: repos.activity,
    onSignIn: (ctx, id, info) => alerts.afterSignIn(ctx, id, info),
  });
  const security = createSecurityService({
    accounts: repos.accounts, activity: repos.activity,
    repo: repos.secondFactors, backupCodes: factors.backupCodes, sms: factors.sms, mailer, issuer: config.issuer,
    onDeviceRemoved: (id) => factors.push.removed(id),
  });
  const profile = createProfileService({ config, db: core.database.db, accounts: repos.accounts, tokens: repos.oneTimeTokens, activity: repos.activity, password: core.password, mailer, limiter, sessions });
  const recovery = createRecovery({ config, accounts: repos.accounts, tokens: repos.oneTimeTokens, activity: repos.activity, password: core.password, mailer, sms, limiter, sessions });
  const reauth = createReauth({ provider, store, password: core.password, limiter, lockout, config });

  return {
    ...core,
    store,
    provider,
    mailer,
    csrf,
    limiter,
    loginAttempt,
    verification,
    sms,
    failures,
    lockout,
    sessions,
    factors,
    pushTransport,
    deviceAuth,
    secondStep,
    finish,
    security,
    reauth,
    profile,
    recovery,
    async close() {
      await store.close();
      await core.close();
    },
  };
}
