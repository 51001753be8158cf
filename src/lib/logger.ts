import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout (or `destination`, which tests read). */
export function createLogger(level: string, destination?: { write(line: string): void }): Logger {
  const options = {
    level,
    base: { service: 'sesame' },
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
