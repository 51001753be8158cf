// Email transport interface. The embedded default writes every message to DATA_DIR/outbox/emails.jsonl
// (mode 600), so a developer can click the links without a mail server. The log says that a message
// was written, never what it says: emails carry single-use links.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../lib/logger.ts';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** What kind of email (verify_email, …), for logs and tests. */
  kind: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

function createOutboxMailer(opts: { dir: string; from: string; logger: Logger }): Mailer {
  const file = path.join(opts.dir, 'emails.jsonl');
  fs.mkdirSync(opts.dir, { recursive: true });
  return {
    async send(message) {
      const record = { at: new Date().toISOString(), from: opts.from, ...message };
      await fs.promises.appendFile(file, JSON.stringify(record) + '\n', { mode: 0o600 });
      opts.logger.info({ to: message.to, kind: message.kind, outbox: file }, 'email written to outbox');
    },
  };
}

/** SMTP through nodemailer (SMTP_URL, e.g. smtps://user:pass@mail.example.com:465). A message that
 *  cannot be handed over throws: the deferred queue retries it, keepGoing() logs it. */
function createSmtpMailer(opts: { url: string; from: string; logger: Logger }): Mailer {
  const transport = nodemailer.createTransport(opts.url);
  return {
    async send(message) {
      await transport.sendMail({
        from: opts.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { 'X-Sesame-Kind': message.kind },
      });
      opts.logger.info({ kind: message.kind }, 'email sent');
    },
  };
}

export function createMailer(config: { smtpUrl?: string; mailFrom: string; dataDir: string }, logger: Logger): Mailer {
  return config.smtpUrl
    ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger })
    : createOutboxMailer({ dir: path.join(config.dataDir, 'outbox'), from: config.mailFrom, logger });
}

/** For emails sent while the user waits (signed-in changes): a message that cannot be handed over
 *  is logged, and the request that caused it goes on. */
export function keepGoing(transport: Mailer, logger: Logger): Mailer {
  return {
    async send(message) {
      try {
        await transport.send(message);
      } catch (err) {
        logger.error({ err: String(err), kind: message.kind }, 'email could not be sent');
      }
    },
  };
}
