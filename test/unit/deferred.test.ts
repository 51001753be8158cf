// The queue that sends public forms' messages after the answer: retries, logs without the text,
// and nothing it runs can reach a request or crash the process.
import { describe, it, expect } from 'vitest';
import { createDeferred } from '../../src/notify/deferred.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { EmailMessage } from '../../src/notify/mailer.ts';

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', { write: (l) => void lines.push(l) }) };
}
const message: EmailMessage = {
  to: 'ada@example.test',
  subject: 'Reset your password',
  text: 'secret link https://id.example/reset-password?token=very-secret-token',
  html: '<a href="https://id.example/reset-password?token=very-secret-token">reset</a>',
  kind: 'password_reset',
};

describe('deferred', () => {
  it('deferred.send-after-answer: send() returns before the transport is even called', async () => {
    const { logger } = capture();
    const deferred = createDeferred({ logger });
    const calls: string[] = [];
    const mailer = deferred.mailer({ send: async (m) => void calls.push(m.kind) });
    await mailer.send(message);
    expect(calls).toEqual([]);
    await deferred.idle();
    expect(calls).toEqual(['password_reset']);
  });

  it('deferred.transport-failure: retried, logged by kind and error without the message, never thrown', async () => {
    const { lines, logger } = capture();
    const deferred = createDeferred({ logger, attempts: 3, retryDelayMs: 5 });
    let tries = 0;
    const flaky = deferred.mailer({
      async send() {
        if (++tries < 3) throw new Error('421 try again later');
      },
    });
    const broken = deferred.sms({
      send: () => {
        throw new Error('gateway down');
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await flaky.send(message);
      await broken.send({ to: '+41791234567', text: 'Your code is 123456', kind: 'reset_code' });
      await deferred.idle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(tries).toBe(3);
    expect(unhandled).toEqual([]);
    const log = lines.map((l) => JSON.parse(l) as { msg: string; what: string; err: unknown });
    const failed = log.filter((l) => l.msg === 'deferred job failed').map((l) => l.what);
    expect(failed.sort()).toEqual(['password_reset', 'password_reset', 'reset_code', 'reset_code']);
    expect(log.filter((l) => l.msg === 'deferred job given up')).toEqual([
      expect.objectContaining({
        what: 'reset_code',
        err: expect.objectContaining({ type: 'Error', message: 'gateway down' }),
        attempts: 3,
      }),
    ]);
    const all = lines.join('');
    expect(all).not.toContain('very-secret-token');
    expect(all).not.toContain('123456');
    expect(all).not.toContain('ada@example.test');
  });

  it('deferred.flood: a full queue drops (and logs) instead of growing without bound', async () => {
    const { lines, logger } = capture();
    const deferred = createDeferred({ logger, maxQueued: 2, concurrency: 1 });
    let ran = 0;
    for (let i = 0; i < 5; i++) deferred.later('x', async () => void ran++);
    await deferred.idle();
    expect(ran).toBe(2);
    expect(lines.filter((l) => l.includes('deferred queue full'))).toHaveLength(3);
  });
});
