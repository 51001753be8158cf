import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { pino, type Logger } from 'pino';
import { errorForLog } from './log-error.ts';

export type { Logger };

/** The request a log line is written for (http/request-id.ts runs each request inside it). */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** JSON lines on stdout (or `destination`, which tests read). */
export function createLogger(level: string, destination?: { write(line: string): void }): Logger {
  const options = {
    level,
    base: { service: 'sesame' },
    // Every line written while a request runs names it (the id is also its X-Request-Id header).
    mixin: () => {
      const current = requestContext.getStore();
      return current ? { reqId: current.requestId } : {};
    },
    // `{ err }` anywhere: type, code and a short message, never a failed query's SQL (lib/log-error.ts).
    serializers: { err: errorForLog },
    redact: {
      paths: [
        'password',
        'client_secret',
        '*.password',
        '*.client_secret',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** `sesame serve` writes nothing but JSON lines: what libraries print with console (oidc-provider's
 *  notices and warnings) goes through the logger, as a line of its level with the request's id. */
export function routeConsoleTo(logger: Logger) {
  const to =
    (level: 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level](format(...args));
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
}
