// Every node follows the key set without a restart: it re-reads it every KEYS_REFRESH_SECONDS, and
// at once when a change is announced on the store (a rotation from the command line), and on every
// read, and at the next activation or removal, recomputes the order it publishes and signs with.
// So a rotation is published everywhere within one refresh interval, before it signs anywhere (it
// activates two intervals later). A read that fails keeps the keys the node has.
import type { Logger } from '../lib/logger.ts';
import { atMost } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import { ALGS, isRemovable, nextChange, publishedKeys, signerFor, type PrivateJwk, type SigningKey } from './keys.ts';
import { KEYS_CHANGED_CHANNEL, type SigningKeySet } from './signing-keys.ts';

export interface KeyRefreshDeps {
  keySet: Pick<SigningKeySet, 'load' | 'deleteRemovable'>;
  /** The keys the provider was built with. */
  initial: SigningKey[];
  /** Puts a new published order into the provider (provider.ts replaceProviderKeys). */
  apply(jwks: PrivateJwk[]): void;
  store: Pick<Store, 'subscribe'>;
  logger: Logger;
  refreshSeconds: number;
  now?: () => number;
}

const kidsOf = (keys: SigningKey[]) => keys.map((k) => k.kid).join(' ');

export async function watchSigningKeys(deps: KeyRefreshDeps) {
  const { keySet, logger } = deps;
  const now = deps.now ?? Date.now;
  let keys = deps.initial;
  let applied = kidsOf(publishedKeys(keys, now()));
  let boundary: NodeJS.Timeout | undefined;
  let stopped = false;

  const recompute = () => {
    const t = now();
    const published = publishedKeys(keys, t);
    if (kidsOf(published) !== applied) {
      try {
        deps.apply(published.map((k) => k.jwk));
        applied = kidsOf(published);
        const signing = ALGS.map(({ alg }) => signerFor(keys, alg, t)?.kid);
        logger.info({ signing, published: published.map((k) => k.kid) }, 'signing keys updated');
      } catch (err) {
        logger.error({ err }, 'signing keys could not be put into the provider; keeping the current ones');
      }
    }
    // An activation or removal before the next read happens on time, not up to an interval late.
    clearTimeout(boundary);
    const next = nextChange(keys, t);
    if (!stopped && next !== undefined && next - t < deps.refreshSeconds * 1000) {
      boundary = setTimeout(recompute, next - t + 1);
      boundary.unref();
    }
  };

  const readOnce = async () => {
    try {
      const loaded = await keySet.load();
      const t = now();
      // A set without a signing key for an alg (rows deleted by hand) would break sign-ins: keep ours.
      if (ALGS.some(({ alg }) => !signerFor(loaded, alg, t))) {
        logger.warn(
          { kids: loaded.map((k) => k.kid) },
          'the stored signing keys are incomplete; keeping the current ones',
        );
        return;
      }
      keys = loaded;
      if (loaded.some((k) => isRemovable(k, t))) await keySet.deleteRemovable(t);
    } catch (err) {
      logger.warn({ err }, 'signing keys could not be read; keeping the current ones');
    }
  };

  // One read at a time; a change announced during a read is followed by another read.
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await readOnce();
        recompute();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void refresh(), deps.refreshSeconds * 1000);
  timer.unref();
  let unsubscribe = async () => {};
  try {
    unsubscribe = await deps.store.subscribe(KEYS_CHANGED_CHANNEL, () => void refresh());
  } catch (err) {
    logger.warn(
      { err },
      `key change notices unavailable: signing keys are re-read every ${deps.refreshSeconds} s only`,
    );
  }
  recompute();

  return {
    refresh,
    /** Stops following; waits for a read in flight at most `withinMs`. */
    async stop(withinMs = 2000) {
      stopped = true;
      clearInterval(timer);
      clearTimeout(boundary);
      // A read in flight ends with the database; a shutdown does not wait on it (or on a store
      // that does not answer the unsubscription) for long.
      await atMost(Promise.all([unsubscribe().catch(() => {}), running]), withinMs);
    },
  };
}
