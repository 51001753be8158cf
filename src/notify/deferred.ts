// Work done after the answer: the emails and SMS of public forms (forgotten password or login,
// sign-up, unlock, a lock) leave once the page has been sent, so the answer takes as long whether or
// not an account exists — the mail server's 100 ms would otherwise tell (issue 10, item 4). A job is
// retried a few times with growing pauses; a failure is logged by what it was (`what`: the message
// kind) and the error, never by what the message says (it carries single-use links and codes), and
// never reaches the request or crashes the process. In-process: a restart loses what is queued, as a
// slow mail server would have.
import type { Logger } from '../lib/logger.ts';
import type { Mailer } from './mailer.ts';
import type { SmsTransport } from './sms.ts';

export interface DeferredOptions {
  /** Tries per job, the first included (default 4). */
  attempts?: number;
  /** Pause before the first retry; each next one is 4× longer (default 2 s: 2, 8, 32 s). */
  retryDelayMs?: number;
  /** Jobs running at once (default 4): a burst of requests is not a burst of SMTP connections. */
  concurrency?: number;
  /** Jobs waiting at most (default 10 000); more are dropped, and logged. */
  maxQueued?: number;
}

interface Job {
  what: string;
  run: () => unknown;
  attempt: number;
}

export function createDeferred(deps: { logger: Logger } & DeferredOptions) {
  const { logger } = deps;
  const attempts = deps.attempts ?? 4;
  const retryDelayMs = deps.retryDelayMs ?? 2000;
  const concurrency = deps.concurrency ?? 4;
  const maxQueued = deps.maxQueued ?? 10_000;
  const queue: Job[] = [];
  const retries = new Set<NodeJS.Timeout>();
  let running = 0;
  let waiters: Array<() => void> = [];

  const isIdle = () => queue.length === 0 && running === 0 && retries.size === 0;

  function pump() {
    while (running < concurrency) {
      const job = queue.shift();
      if (!job) break;
      void run(job); // counts itself as running before its first await
    }
    if (isIdle()) {
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    }
  }

  async function run(job: Job) {
    running++;
    try {
      await job.run();
    } catch (err) {
      if (job.attempt < attempts) {
        const delay = retryDelayMs * 4 ** (job.attempt - 1);
        logger.warn({ what: job.what, attempt: job.attempt, err, retryInMs: delay }, 'deferred job failed');
        const timer = setTimeout(() => {
          retries.delete(timer);
          queue.push({ ...job, attempt: job.attempt + 1 });
          pump();
        }, delay);
        retries.add(timer);
      } else {
        logger.error({ what: job.what, attempts: job.attempt, err }, 'deferred job given up');
      }
    } finally {
      running--;
      pump();
    }
  }

  function later(what: string, run: () => unknown): void {
    if (queue.length >= maxQueued) {
      logger.error({ what, queued: queue.length }, 'deferred queue full: job dropped');
      return;
    }
    queue.push({ what, run, attempt: 1 });
    // Not before the current request has answered: the job starts on a later turn of the event loop.
    setImmediate(pump);
  }

  return {
    /** Runs `run` after the current request has answered; `what` names it in the log. */
    later,
    /** Resolves when nothing is queued, running or waiting for a retry (tests; a clean shutdown). */
    idle(): Promise<void> {
      return isIdle() ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
    /** A mailer whose send() only queues the message for `transport` (which throws on failure). */
    mailer: (transport: Mailer): Mailer => ({
      async send(message) {
        later(message.kind, () => transport.send(message));
      },
    }),
    /** The same for SMS. */
    sms: (transport: SmsTransport): SmsTransport => ({
      async send(message) {
        later(message.kind, () => transport.send(message));
      },
    }),
  };
}
export type Deferred = ReturnType<typeof createDeferred>;
