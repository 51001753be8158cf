// The one wiring point, for the server and the command line alike: database, store, repositories,
// services. Wiring only: every behaviour lives in the factory it names, and nothing is changed
// after it is built.
import { createAppPasswordsRepo } from './db/repositories/app-passwords.ts';
import { createAccountChanges } from './store/account-changes.ts';
import { createAppPasswords } from './app-passwords/service.ts';
import { createSyncVerifier } from './app-passwords/verify.ts';
import { registerPasswordGrant } from './app-passwords/password-grant.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { atMost, systemClock, type Clock } from './lib/clock.ts';
import { openDatabase, type Database } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { openStore } from './store/open-store.ts';
import { createMetrics, timedStore, countedTransport, countActivity } from './lib/metrics.ts';
import { describeUrl, outageLog, withStartupRetries } from './lib/dependency.ts';
import { createLifecycle } from './lib/lifecycle.ts';
import { createAccountsRepo } from './db/repositories/accounts.ts';
import { createApplicationsRepo } from './db/repositories/applications.ts';
import { createOrganizationsRepo } from './db/repositories/organizations.ts';
import { createOneTimeTokensRepo } from './db/repositories/one-time-tokens.ts';
import { createInvitationsRepo } from './db/repositories/invitations.ts';
import { createTeamsRepo } from './db/repositories/teams.ts';
import { createSecondFactorsRepo } from './db/repositories/second-factors.ts';
import { createBackupCodesRepo } from './db/repositories/backup-codes.ts';
import { createActivityRepo } from './db/repositories/activity.ts';
import { createSessionInfoRepo } from './db/repositories/session-info.ts';
import { createTrustedDevicesRepo } from './db/repositories/trusted-devices.ts';
import { createKnownDevicesRepo } from './db/repositories/known-devices.ts';
import { createMailer, keepGoing, type Mailer } from './notify/mailer.ts';
import { createDeferred, type DeferredOptions } from './notify/deferred.ts';
import { createSmsTransport, type SmsTransport } from './notify/sms.ts';
import { createRateLimiter } from './http/rate-limit.ts';
import { createCsrf } from './http/csrf.ts';
import { signedInSessionUid } from './oidc/session.ts';
import { createAccountSession } from './http/require-account.ts';
import { createOrganizationContext } from './organizations/context.ts';
import { createAccessRevoker } from './organizations/revoke-access.ts';
import { createAccessCheck } from './organizations/access-check.ts';
import { createTwoFactorPolicy } from './organizations/two-factor-policy.ts';
import { createOrganizationPrompt } from './organizations/sign-in-checks.ts';
import { createInvitations } from './organizations/invitations.ts';
import { createTwoFactorGate } from './organizations/two-factor-gate.ts';
import { createPasswordFactor } from './factors/password.ts';
import { createTotpFactor } from './factors/totp.ts';
import { createWebauthnFactor } from './factors/webauthn.ts';
import { createSmsFactor } from './factors/sms.ts';
import { createBackupCodesFactor } from './factors/backup-codes.ts';
import { createPushFactor } from './kauth/push-factor.ts';
import { createStorePushTransport } from './kauth/push-transport.ts';
import { createDeviceAuth } from './kauth/device-auth.ts';
import { createNotMeAlert } from './kauth/not-me.ts';
import { createLockout } from './login/lockout.ts';
import { createAlerts } from './login/alerts.ts';
import { createCheckPassword } from './login/check-password.ts';
import { createPendingLogins } from './login/pending-login.ts';
import { createSecondStep } from './login/second-step.ts';
import { createFinisher } from './login/finish.ts';
import { createReauth } from './login/reauth.ts';
import { createRequireFresh } from './login/require-fresh.ts';
import { createSecurityService } from './account/security-service.ts';
import { createApplicationsService } from './account/applications-service.ts';
import { createEmailVerification } from './account/email-verification.ts';
import { createSessions } from './account/sessions.ts';
import { createProfileService } from './account/profile-service.ts';
import { createRecovery } from './account/recovery.ts';
import { createShownOnce } from './account/shown-once.ts';
import { createFreshStart } from './account/fresh-start.ts';
import { createSigningKeysRepo } from './db/repositories/signing-keys.ts';
import { publishedKeys } from './oidc/keys.ts';
import { createSigningKeySet } from './oidc/signing-keys.ts';
import { watchSigningKeys } from './oidc/key-refresh.ts';
import { createProvider, replaceProviderKeys } from './oidc/provider.ts';
import { createFindAccount } from './oidc/account.ts';
import { createClientCache } from './oidc/client-cache.ts';
import { createClientLoader } from './oidc/clients.ts';
import { providerPages } from './oidc/pages.ts';
import { watchProvider } from './oidc/provider-events.ts';
import { createApiTokensRepo } from './db/repositories/api-tokens.ts';
import { createPersonalTokens } from './api/personal-tokens.ts';
import { createApiAuth } from './api/authenticate.ts';
import { createApiRateLimit } from './api/rate-limit.ts';

/** Every repository over one database; their type is read off this function. */
function createRepos(db: Database['db']) {
  return {
    accounts: createAccountsRepo(db),
    applications: createApplicationsRepo(db),
    organizations: createOrganizationsRepo(db),
    invitations: createInvitationsRepo(db),
    teams: createTeamsRepo(db),
    oneTimeTokens: createOneTimeTokensRepo(db),
    secondFactors: createSecondFactorsRepo(db),
    backupCodes: createBackupCodesRepo(db),
    activity: createActivityRepo(db),
    sessionInfo: createSessionInfoRepo(db),
    knownDevices: createKnownDevicesRepo(db),
    trustedDevices: createTrustedDevicesRepo(db),
    apiTokens: createApiTokensRepo(db),
    appPasswords: createAppPasswordsRepo(db),
  };
}
export type Repos = ReturnType<typeof createRepos>;

export interface DepsOptions {
  logger?: Logger;
  /** Replaces the email transport (it throws when a message cannot be handed over). */
  mailer?: Mailer;
  sms?: SmsTransport;
  deferred?: DeferredOptions;
  clock?: Clock;
  storePrefix?: string;
}

/** Everything that needs no signing keys and no provider: what the command line uses, and the
 *  ground the server is built on — the same services, so `sesame user unlock` clears exactly what
 *  the servers read. */
export async function createCoreDeps(config: Config, opts: DepsOptions = {}) {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  // A lost connection is logged once per outage; requests meanwhile answer 503 (http/error-handler.ts).
  const outages = { database: outageLog(logger, 'PostgreSQL'), store: outageLog(logger, 'Redis') };
  const metrics = createMetrics();
  const database = await openDatabase({
    timed: (query) => metrics.timed('database', query),
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    onConnectionError: (err) => outages.database.error(err),
    onConnect: () => outages.database.ok(),
  });
  // Unreachable at start: retried with backoff, one log line per attempt, then a clear failure.
  const retry = { logger, limitSeconds: config.startupWaitSeconds };
  // Every process applies what is missing (under an advisory lock, so nodes starting together wait).
  const applied = await withStartupRetries(
    `PostgreSQL at ${describeUrl(config.databaseUrl ?? '')}`,
    () => migrate(database),
    retry,
  ).catch(async (err: unknown) => {
    await database.close().catch(() => {});
    throw err;
  });
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const repos = createRepos(database.db);
  countActivity(repos.activity, metrics);
  const opened = await withStartupRetries(
    `Redis at ${describeUrl(config.redisUrl ?? '')}`,
    () =>
      openStore(config, {
        prefix: opts.storePrefix ?? config.redisPrefix,
        onWarning: (message) => logger.warn(message),
        onError: (err) => outages.store.error(err),
        onReady: () => outages.store.ok(),
      }),
    retry,
  ).catch(async (err: unknown) => {
    await database.close().catch(() => {});
    throw err;
  });
  const store = timedStore(opened, metrics);
  const lifecycle = createLifecycle();
  const mailTransport = countedTransport(opts.mailer ?? createMailer(config, logger), 'email', metrics);
  const mailer = keepGoing(mailTransport, logger);
  const sms = countedTransport(opts.sms ?? createSmsTransport(config, logger), 'sms', metrics);
  // What public forms send (where an answer's time must not tell whether an account exists) leaves
  // after the answer, retried: notify/deferred.ts.
  const deferred = createDeferred({ logger, ...opts.deferred });
  const later = { mailer: deferred.mailer(mailTransport), sms: deferred.sms(sms) };
  const limiter = createRateLimiter(store);
  const clientCache = createClientCache(createClientLoader({ repos, config }));
  const signingKeys = createSigningKeySet({
    // Key writes wait for a lock: on the maintenance connections, off the requests' query timeout.
    repo: createSigningKeysRepo(database.maintenance),
    encryptionKey: config.encryptionKey,
    keysDir: config.keysDir,
    store,
    logger,
  });
  const base = { config, logger, clock, store, repos, mailer, limiter };
  const accountChanges = createAccountChanges({ store, logger });
  const password = createPasswordFactor(config.argon2);

  const lockout = createLockout({
    ...base,
    mailer: later.mailer,
    tokens: repos.oneTimeTokens,
    activity: repos.activity,
    accounts: repos.accounts,
    trustedDevices: repos.trustedDevices,
    accountChanges,
  });
  const pushTransport = createStorePushTransport(store);
  const onNotMe = createNotMeAlert({ ...base, accounts: repos.accounts });
  const backupCodes = createBackupCodesFactor({ ...base, repo: repos.backupCodes });
  const factors = {
    totp: createTotpFactor({ ...base, repo: repos.secondFactors }),
    webauthn: createWebauthnFactor({ ...base, repo: repos.secondFactors }),
    sms: createSmsFactor({ ...base, repo: repos.secondFactors, transport: sms }),
    backupCodes,
    push: createPushFactor({
      ...base,
      repo: repos.secondFactors,
      failures: lockout,
      transport: pushTransport,
      onNotMe,
    }),
  };
  const appPasswords = createAppPasswords({
    ...base,
    repo: repos.appPasswords,
    activity: repos.activity,
    accountChanges,
  });
  return {
    ...base,
    metrics,
    database,
    outages,
    lifecycle,
    sms,
    deferred,
    later,
    clientCache,
    signingKeys,
    lockout,
    factors,
    pushTransport,
    password,
    accountChanges,
    appPasswords,
    syncVerifier: createSyncVerifier({
      ...base,
      repo: repos.appPasswords,
      activity: repos.activity,
      password,
      accountChanges,
    }),
    personalTokens: createPersonalTokens({ ...base, repo: repos.apiTokens, activity: repos.activity }),
    security: createSecurityService({ ...base, factors, accountChanges, appPasswords }),
    applications: createApplicationsService({ ...base, clientCache }),
    /** Sends what was queued, waiting for the mail server at most `withinMs`, then disconnects. */
    async close(withinMs = 10_000) {
      // Half a second of the budget is kept for closing the store and the database cleanly.
      const mail = Math.max(0, withinMs - 500);
      await atMost(deferred.idle(), mail);
      await accountChanges.close().catch(() => {});
      await store.close();
      await database.close();
    },
  };
}
export type CoreDeps = Awaited<ReturnType<typeof createCoreDeps>>;

/** The server: the core, plus signing keys, the provider, the login flow and the account pages. */
export async function createDeps(config: Config, opts: DepsOptions = {}) {
  const core = await createCoreDeps(config, opts);
  const { repos, store, logger, limiter, lockout, factors } = core;
  // One key set per deployment, made by the first node (oidc/signing-keys.ts); followed without a
  // restart (oidc/key-refresh.ts). Keys run on real time: relying parties check tokens by it.
  const { keys } = await core.signingKeys.ensure();
  // What a node remembers of an account's credentials is dropped when any node changes them.
  await core.accountChanges.listen();
  if (!factors.webauthn.available)
    logger.warn(
      { issuer: config.issuer },
      'security keys are off: the ISSUER host is an IP address, which browsers refuse as a WebAuthn relying-party ID; use a domain name to offer them',
    );
  const accessCheck = createAccessCheck({ repos });
  const twoFactorPolicy = createTwoFactorPolicy({ db: core.database.db });
  const provider = createProvider({
    config,
    prompts: [createOrganizationPrompt({ accessCheck, twoFactorPolicy })],
    keys: publishedKeys(keys, Date.now()).map((k) => k.jwk),
    db: core.database.db,
    store,
    findAccount: createFindAccount(repos.accounts, repos.organizations),
    findClient: core.clientCache.find,
    clock: core.clock,
    pages: providerPages,
  });
  // Mail servers (Dovecot's oauth2 passdb) check app passwords at the token endpoint.
  registerPasswordGrant(provider, { verifier: core.syncVerifier });
  const keyRefresh = await watchSigningKeys({
    keySet: core.signingKeys,
    initial: keys,
    apply: (jwks) => replaceProviderKeys(provider, jwks),
    store,
    logger,
    refreshSeconds: config.keysRefreshSeconds,
  });
  const sessions = createSessions({ provider, repo: repos.sessionInfo, activity: repos.activity, logger });
  watchProvider(provider, { sessions, logger });

  const alerts = createAlerts({
    ...core,
    mailer: core.later.mailer,
    accounts: repos.accounts,
    known: repos.knownDevices,
  });
  const checkPassword = createCheckPassword({ ...core, accounts: repos.accounts, activity: repos.activity, alerts });
  const pending = createPendingLogins(store);
  const secondStep = createSecondStep({
    repo: repos.secondFactors,
    limiter,
    lockout,
    accounts: repos.accounts,
    activity: repos.activity,
    pending,
    factors: [factors.push, factors.totp, factors.webauthn, factors.sms, factors.backupCodes],
    config,
  });
  const finish = createFinisher({ provider, secondStep, pending, lockout, activity: repos.activity, alerts });
  const reauth = createReauth({ provider, store, checkPassword, config });
  const organizationContext = createOrganizationContext({ repos });
  const services = {
    ...core,
    provider,
    sessions,
    db: core.database.db,
    accounts: repos.accounts,
    tokens: repos.oneTimeTokens,
  };
  return {
    ...core,
    provider,
    sessions,
    alerts,
    checkPassword,
    pending,
    secondStep,
    finish,
    reauth,
    requireFresh: createRequireFresh(reauth),
    shownOnce: createShownOnce({ provider, store, config }),
    csrf: createCsrf(config.csrfKey, (ctx) => signedInSessionUid(provider, ctx)),
    organizationContext,
    invitations: createInvitations({ ...core, mailer: core.later.mailer }),
    accessCheck,
    twoFactorPolicy,
    accessRevoker: createAccessRevoker({ ...services, repos }),
    accountSession: createAccountSession({
      ...core,
      provider,
      sessions,
      accounts: repos.accounts,
      accountPageHooks: [organizationContext.accountPage, createTwoFactorGate({ twoFactorPolicy }).accountPage],
    }),
    deviceAuth: createDeviceAuth({ repo: repos.secondFactors, store }),
    apiAuth: createApiAuth({
      config,
      provider,
      accounts: repos.accounts,
      personalTokens: core.personalTokens,
      findClient: core.clientCache.find,
    }),
    apiRateLimit: createApiRateLimit({ store, clock: core.clock, perMinute: config.rateLimits.apiPerMinute }),
    verification: createEmailVerification({ ...core, mailer: core.later.mailer, checkPassword }),
    profile: createProfileService({ ...services, activity: repos.activity }),
    recovery: createRecovery({
      ...services,
      ...core.later,
      activity: repos.activity,
      freshStart: createFreshStart(services),
    }),
    keyRefresh,
    async close(withinMs = 10_000) {
      const until = Date.now() + withinMs;
      await keyRefresh.stop(Math.min(2000, withinMs / 4));
      await core.close(Math.max(0, until - Date.now()));
    },
  };
}
export type Deps = Awaited<ReturnType<typeof createDeps>>;
