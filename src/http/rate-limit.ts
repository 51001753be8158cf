import type { Store } from '../store/store.ts';

/** Fixed-window counters in the store (atomic INCR). Returns false once `limit` is exceeded. */
export function createRateLimiter(store: Store) {
  return {
    async hit(bucket: string, key: string, limit: number, windowSeconds: number): Promise<boolean> {
      const n = await store.incr(`rl:${bucket}:${key}`, windowSeconds);
      return n <= limit;
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
