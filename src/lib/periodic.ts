// Background rounds every node runs (the cleanup, the idle-token sweep): once at start, then every
// `everyMs` plus up to a minute of jitter (several nodes spread out), never holding the process
// open, a failed round logged and the next one tried.
import type { Logger } from './logger.ts';

export function startPeriodic(run: () => Promise<unknown>, everyMs: number, logger: Logger, what: string): () => void {
  const round = () =>
    run().catch((err: unknown) => {
      logger.warn({ err }, `${what} failed`);
    });
  const timer = setInterval(round, everyMs + Math.floor(Math.random() * 60_000));
  timer.unref();
  void round();
  return () => clearInterval(timer);
}
