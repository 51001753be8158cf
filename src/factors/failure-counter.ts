// Failed credential answers, counted per account and per kind, so that the lockout (issue 5) can
// hook in at one place. Password and second-factor failures are separate budgets: a password-only
// attacker cannot spend the second-factor budget, and vice versa.
import type { Store } from '../store/store.ts';

export type FailureKind = 'password' | 'second_factor';

// Failures are forgiven only by a completed sign-in (or an unlock); the counter outlives any lock.
const TTL = 90 * 24 * 3600;

export function createFailureCounter(store: Store) {
  return {
    /** Atomic increment; returns the count including this failure. */
    record(kind: FailureKind, accountId: string): Promise<number> {
      return store.incr(`fail:${kind}:${accountId}`, TTL);
    },
    /** Gives back an attempt reserved by record() when the answer turned out right. */
    async release(kind: FailureKind, accountId: string): Promise<void> {
      await store.decr(`fail:${kind}:${accountId}`);
    },
    async count(kind: FailureKind, accountId: string): Promise<number> {
      return Number(await store.get(`fail:${kind}:${accountId}`)) || 0;
    },
    /** After a completed sign-in, and nothing else. */
    async reset(accountId: string): Promise<void> {
      await store.del(`fail:password:${accountId}`, `fail:second_factor:${accountId}`);
    },
  };
}
export type FailureCounter = ReturnType<typeof createFailureCounter>;
