// PostgreSQL and Redis are dependencies a node must outlive: while one is down, a request that
// needs it fails at once with a 503 and Retry-After (never a hang, never a crash), and the node
// serves again by itself when it is back. At start, an unreachable dependency is retried with
// backoff and one clear log line per attempt, up to STARTUP_WAIT_SECONDS.
import type { Logger } from './logger.ts';

/** Seconds a client is told to wait before retrying a request that met a dependency outage. */
export const RETRY_AFTER_SECONDS = 5;

/** A dependency did not answer; `which` names it for /readyz and the log. */
export class DependencyDownError extends Error {
  constructor(
    readonly which: 'database' | 'store',
    cause?: unknown,
  ) {
    super(`${which} unavailable`, { cause });
    this.name = 'DependencyDownError';
  }
}

// Node's socket errors (a refused, reset or timed-out connection).
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// PostgreSQL SQLSTATEs of a server going away or not taking connections (Appendix A): class 08
// connection exception, 57P01–57P03 admin/crash shutdown and cannot-connect-now, 53300 too many
// connections.
const PG_DOWN = /^(08...|57P0[123]|53300)$/;
// Messages of pg's pool and node-redis when the connection is gone (they carry no code).
const DOWN_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'The client is closed',
  'Socket closed unexpectedly',
  'Query read timeout',
  'Client network socket disconnected',
  // node-redis (its errors carry no name of their own)
  'The client is offline',
  'Connection timeout',
  'Socket timeout',
];

/** `err` and what it wraps (drizzle and our own errors carry the driver's as `cause`), a few deep. */
function* causes(err: unknown): Generator<object> {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    yield e;
}

/** Which dependency an outage error is about: the store tags its own; the rest is PostgreSQL's. */
export function dependencyOf(err: unknown): 'database' | 'store' {
  for (const e of causes(err)) if (e instanceof DependencyDownError) return e.which;
  return 'database';
}

/** True when `err` (or what it wraps: drizzle wraps the driver's error as `cause`) says a
 *  dependency is unreachable rather than that the request was wrong. */
export function isDependencyDown(err: unknown): boolean {
  for (const e of causes(err)) {
    // An outgoing HTTP call that failed (the SMS gateway, a back-channel logout), however wrapped,
    // is not Sesame's database or store: whoever made it answers for it.
    if (e instanceof TypeError && e.message === 'fetch failed') return false;
    if (e instanceof DependencyDownError) return true;
    const { code, message, errors } = e as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || PG_DOWN.test(code))) return true;
    if (typeof message === 'string' && DOWN_MESSAGES.some((m) => message.includes(m))) return true;
    // Redis replaying its append-only file after a restart.
    if (typeof message === 'string' && message.startsWith('LOADING ')) return true;
    // AggregateError (a host with several addresses, each refused).
    if (Array.isArray(errors) && errors.some(isDependencyDown)) return true;
  }
  return false;
}

/** A short reason for the log: the code or the first line of the message. */
export function reasonOf(err: unknown): string {
  for (const e of causes(err)) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string') return code;
  }
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? '').slice(0, 120) || 'unreachable';
}

/** Where a dependency is, without its credentials. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}`;
  } catch {
    return 'the configured address';
  }
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Runs `attempt` until it succeeds, waiting 0.5 s, 1 s, 2 s … (at most 5 s) between tries, for at
 *  most `limitSeconds` (0: one try). Each failure is one log line; giving up is a StartupError. */
export async function withStartupRetries<T>(
  what: string,
  attempt: () => Promise<T>,
  opts: { logger: Logger; limitSeconds: number; sleep?: (ms: number) => Promise<void> },
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const until = Date.now() + opts.limitSeconds * 1000;
  for (let n = 1; ; n++) {
    try {
      const result = await attempt();
      if (n > 1) opts.logger.info({ attempts: n }, `${what} reachable`);
      return result;
    } catch (err) {
      const reason = reasonOf(err);
      const wait = Math.min(500 * 2 ** (n - 1), 5000);
      if (!isDependencyDown(err) && !(err instanceof StartupError)) throw err;
      if (Date.now() + wait > until) {
        throw new StartupError(
          `${what} unreachable (${reason}); gave up after ${n} attempt${n > 1 ? 's' : ''} (STARTUP_WAIT_SECONDS=${opts.limitSeconds})`,
        );
      }
      opts.logger.warn({ attempt: n, reason, retryInMs: wait }, `${what} unreachable; retrying`);
      await sleep(wait);
    }
  }
}

/** Logs a dependency's connection errors once per outage (not once per failed query), and its
 *  return; returns the callbacks to wire to the client's events. */
export function outageLog(logger: Logger, which: string) {
  let down = false;
  return {
    error(err: unknown) {
      if (down) return;
      down = true;
      logger.warn(
        { reason: reasonOf(err) },
        `${which} connection lost; requests that need it answer 503 until it is back`,
      );
    },
    ok() {
      if (!down) return;
      down = false;
      logger.info(`${which} connection restored`);
    },
  };
}
