import { pino, type Logger } from 'pino';
import { errorForLog } from './log-error.ts';

export type { Logger };

/** JSON lines on stdout (or `destination`, which tests read). */
export function createLogger(level: string, destination?: { write(line: string): void }): Logger {
  const options = {
    level,
    base: { service: 'sesame' },
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
