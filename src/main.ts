// Process entry: loadConfig → createDeps → createApp → listen; SIGTERM closes cleanly.
import http from 'node:http';
import { loadConfig, ConfigError } from './config.ts';
import { createDeps, type Deps } from './deps.ts';
import { createApp } from './app.ts';
import { deleteExpiredPayloads } from './oidc/adapter.ts';
import { createLogger } from './lib/logger.ts';
import { SigningKeysError } from './oidc/signing-keys.ts';

export interface RunningServer {
  server: http.Server;
  deps: Deps;
  url: string;
  close(): Promise<void>;
}

/** Deletes expired rows in batches, every 10 minutes (with jitter, so several nodes spread out). */
function startCleanup(deps: Deps): () => void {
  const run = async () => {
    try {
      const payloads = await deleteExpiredPayloads(deps.database.db);
      const tokens = await deps.repos.oneTimeTokens.deleteExpired(1000);
      // The activity log keeps ACTIVITY_RETENTION_DAYS.
      const activity = await deps.repos.activity.deleteOlderThan(
        new Date(Date.now() - deps.config.activityRetentionDays * 86_400_000),
        5000,
      );
      if (payloads || tokens || activity) deps.logger.info({ payloads, tokens, activity }, 'expired rows deleted');
    } catch (err) {
      deps.logger.warn({ err }, 'cleanup failed');
    }
  };
  const timer = setInterval(run, 10 * 60_000 + Math.floor(Math.random() * 60_000));
  timer.unref();
  void run();
  return () => clearInterval(timer);
}

export async function serve(): Promise<RunningServer> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.generatedSecretsFile)
    logger.warn(
      { file: config.generatedSecretsFile },
      'development secrets in use (generated under DATA_DIR); set COOKIE_SECRETS and ENCRYPTION_KEY in production',
    );
  let deps: Deps;
  try {
    deps = await createDeps(config, { logger });
  } catch (err) {
    if (err instanceof SigningKeysError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const stopCleanup = startCleanup(deps);
  logger.info(
    {
      issuer: config.issuer,
      database: deps.database.kind === 'pglite' ? `PGlite in ${config.dataDir}/pglite` : 'PostgreSQL',
      store: config.redisUrl ? 'Redis' : 'in-process',
    },
    `Sesame listening on ${config.issuer}`,
  );

  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    stopCleanup();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await deps.close();
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig }, 'shutting down');
      close().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { server, deps, url: config.issuer, close };
}
