// SMS transport interface, with two transports: the outbox (embedded default: one JSON line per
// message in DATA_DIR/outbox/sms.jsonl, and a log line that never holds the text — it carries codes)
// and an HTTP gateway that receives a JSON POST { to, text } with "Authorization: Bearer <token>".
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger.ts';

export interface SmsMessage {
  /** E.164, e.g. +41791234567. */
  to: string;
  text: string;
  /** What kind of message (login_code, enrol_code), for logs and tests. */
  kind: string;
}

export interface SmsTransport {
  send(message: SmsMessage): Promise<void>;
}

function createOutboxSms(opts: { dir: string; logger: Logger }): SmsTransport {
  const file = path.join(opts.dir, 'sms.jsonl');
  fs.mkdirSync(opts.dir, { recursive: true });
  return {
    async send(message) {
      await fs.promises.appendFile(file, JSON.stringify({ at: new Date().toISOString(), ...message }) + '\n', {
        mode: 0o600,
      });
      opts.logger.info({ kind: message.kind, outbox: file }, 'SMS written to outbox');
    },
  };
}

function createHttpSmsGateway(opts: { url: string; token?: string; logger: Logger; timeoutMs?: number }): SmsTransport {
  return {
    async send(message) {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        body: JSON.stringify({ to: message.to, text: message.text }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      if (!res.ok) {
        opts.logger.error({ status: res.status, kind: message.kind }, 'SMS gateway refused the message');
        throw new Error(`SMS gateway answered ${res.status}`);
      }
      opts.logger.info({ kind: message.kind }, 'SMS handed to the gateway');
    },
  };
}

/** The gateway when SMS_GATEWAY_URL is set, the outbox otherwise (production allows it only with
 *  ALLOW_OUTBOX=true, checked in config.ts). */
export function createSmsTransport(
  config: { smsGateway?: { url: string; token?: string }; dataDir: string },
  logger: Logger,
): SmsTransport {
  return config.smsGateway
    ? createHttpSmsGateway({ url: config.smsGateway.url, token: config.smsGateway.token, logger })
    : createOutboxSms({ dir: path.join(config.dataDir, 'outbox'), logger });
}
