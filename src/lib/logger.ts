import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'sesame' },
    redact: { paths: ['password', 'client_secret', '*.password', '*.client_secret', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}
