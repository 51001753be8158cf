// Email transport interface. The embedded default writes every message to DATA_DIR/outbox/emails.jsonl
// and to the log, so a developer can click the links without a mail server.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger.ts';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** What kind of email (verify_email, …), for logs and tests. */
  kind: string;
}

export interface Mailer { send(message: EmailMessage): Promise<void> }

export function createOutboxMailer(opts: { dir: string; from: string; logger: Logger }): Mailer {
  const file = path.join(opts.dir, 'emails.jsonl');
  fs.mkdirSync(opts.dir, { recursive: true });
  return {
    async send(message) {
      const record = { at: new Date().toISOString(), from: opts.from, ...message };
      await fs.promises.appendFile(file, JSON.stringify(record) + '\n', { mode: 0o600 });
      opts.logger.info({ to: message.to, kind: message.kind, subject: message.subject, outbox: file, text: message.text }, 'email written to outbox');
    },
  };
}
