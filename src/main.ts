// Process entry: loadConfig → createDeps → createApp → listen; SIGTERM closes cleanly.
import http from 'node:http';
import { loadConfig, ConfigError } from './config.ts';
import { createDeps, type Deps } from './deps.ts';
import { createApp } from './app.ts';
import { startCleanup } from './maintenance/cleanup.ts';
import { startIdleTokenSweep } from './api/idle-tokens.ts';
import { createLogger, routeConsoleTo } from './lib/logger.ts';
import { createMetricsServer } from './http/metrics.ts';
import { SigningKeysError } from './oidc/signing-keys.ts';
import { StartupError } from './lib/dependency.ts';
import { errorForLog } from './lib/log-error.ts';
import { atMost } from './lib/clock.ts';

export interface RunningServer {
  server: http.Server;
  deps: Deps;
  url: string;
  close(): Promise<void>;
}

/** Ends the process with one clear log line, no stack trace: a failed start is the operator's
 *  to fix (an address, a password, a database that does not exist), not a bug to debug. */
function startFailed(logger: ReturnType<typeof createLogger>, err: unknown): never {
  const logged = errorForLog(err);
  const message =
    err instanceof StartupError
      ? err.message
      : `start failed: ${logged.code ? `${logged.code} ` : ''}${logged.message}`;
  logger.fatal(message);
  process.exit(1);
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
  routeConsoleTo(logger);
  // Last line of defence: a promise nobody awaited that fails (a dependency's error in a callback)
  // is logged, never the end of the node.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (the node keeps running)'));
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
      // A key set this node cannot read (another ENCRYPTION_KEY): a configuration problem.
      logger.fatal(err.message);
      process.exit(2);
    }
    startFailed(logger, err);
  }
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  }).catch((err: unknown) => startFailed(logger, err));
  const metricsServer = config.metrics.port ? createMetricsServer(deps.metrics) : undefined;
  if (metricsServer)
    await new Promise<void>((resolve, reject) => {
      metricsServer.once('error', reject);
      metricsServer.listen(config.metrics.port, config.metrics.host, resolve);
    }).catch((err: unknown) => startFailed(logger, err));
  const stopCleanup = startCleanup(deps);
  const stopIdleTokens = startIdleTokenSweep(deps);
  logger.info(
    {
      issuer: config.issuer,
      database: deps.database.kind === 'pglite' ? `PGlite in ${config.dataDir}/pglite` : 'PostgreSQL',
      store: config.redisUrl ? 'Redis' : 'in-process',
    },
    `Sesame listening on ${config.issuer}`,
  );

  let closing: Promise<void> | undefined;
  /** SIGTERM: stop accepting; end event streams and idle keep-alive connections at once; let
   *  in-flight requests finish (each response closes its connection); cut what is left when the
   *  drain time is up; then send what is queued and disconnect, all within SHUTDOWN_DRAIN_SECONDS. */
  const close = () =>
    (closing ??= (async () => {
      const budget = config.shutdownDrainSeconds * 1000;
      const started = Date.now();
      // Everything ends a moment before the budget; the timer below is only the backstop.
      const left = () => Math.max(0, started + budget - 150 - Date.now());
      deps.lifecycle.drain();
      metricsServer?.close();
      stopCleanup();
      stopIdleTokens();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A connection whose request just finished is idle now: close it without waiting for 65 s.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      let timer: NodeJS.Timeout | undefined;
      // Requests get the budget but what closing the database and sending queued mail needs.
      const requestsBudget = Math.max(budget - 1500, budget / 2);
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), requestsBudget))),
      ]);
      clearTimeout(timer);
      clearInterval(sweep);
      if (!drained) {
        logger.warn({ afterMs: Date.now() - started }, 'drain time is up: closing the connections still open');
        server.closeAllConnections();
      }
      // A database that does not answer (or a connection a request still holds) must not hold the
      // exit past the budget.
      await atMost(deps.close(left()), left());
    })());
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (closing) {
        // Asked twice: stop now.
        process.exit(1);
      }
      logger.info({ signal: sig, drainSeconds: config.shutdownDrainSeconds }, 'shutting down');
      // Whatever happens, the process ends within the drain time (plus a moment to log).
      setTimeout(
        () => {
          logger.warn('shutdown took longer than the drain time; exiting');
          process.exit(1);
        },
        config.shutdownDrainSeconds * 1000 + 500,
      ).unref();
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { server, deps, url: config.issuer, close };
}
