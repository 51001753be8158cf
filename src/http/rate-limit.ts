import type { Store } from '../store/store.ts';

/** The window of the per-account and per-IP limits on credential checks (passwords, codes, push
 *  requests): long enough that a guesser gains nothing by pacing, short enough that a user who
 *  mistyped is not kept out for long. */
export const CREDENTIAL_WINDOW_SECONDS = 15 * 60;
/** The window of the limits on messages sent (emails per recipient, SMS). */
export const MESSAGE_WINDOW_SECONDS = 3600;

/** Fixed-window counters in the store (atomic INCR). Returns false once `limit` is exceeded. */
export function createRateLimiter(store: Store) {
  return {
    async hit(bucket: string, key: string, limit: number, windowSeconds: number): Promise<boolean> {
      const n = await store.incr(`rl:${bucket}:${key}`, windowSeconds);
      return n <= limit;
    },
    /** Starts the window over (a right password: its owner's own sign-ins never lock them out). */
    async reset(bucket: string, key: string): Promise<void> {
      await store.del(`rl:${bucket}:${key}`);
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
