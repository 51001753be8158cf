// Client metadata is read on every token, introspection and userinfo request. A per-node cache of
// a couple of seconds takes the database off that hot path; a change made on this node is seen at
// once (invalidate), one made on another node within CLIENT_CACHE_MS.
import type { AdapterPayload } from 'oidc-provider';

const CLIENT_CACHE_MS = 2000;
/** Entries at most: unknown client ids are cached too (a miss costs a query), and anyone can send
 *  those, so the cache has a hard bound; an evicted client costs one query. */
const CLIENT_CACHE_MAX = 1000;

export function createClientCache(
  load: (clientId: string) => Promise<AdapterPayload | undefined>,
  ttlMs = CLIENT_CACHE_MS,
  maxEntries = CLIENT_CACHE_MAX,
) {
  // Settled values only. A promise made during a request carries that request's async context
  // (oidc-provider runs each request in an AsyncLocalStorage): a cached promise kept the whole
  // request (Koa context, body, socket) alive for as long as its entry.
  const entries = new Map<string, { value: AdapterPayload | undefined; until: number }>();
  // Loads under way, so that concurrent misses make one query; gone once settled.
  const loading = new Map<string, Promise<AdapterPayload | undefined>>();

  function remember(clientId: string, value: AdapterPayload | undefined) {
    const now = Date.now();
    entries.delete(clientId); // re-inserted last: the Map's order is the order of expiry
    entries.set(clientId, { value, until: now + ttlMs });
    for (const [k, e] of entries) {
      if (e.until > now && entries.size <= maxEntries) break;
      entries.delete(k);
    }
  }

  return {
    find(clientId: string): Promise<AdapterPayload | undefined> {
      const hit = entries.get(clientId);
      if (hit && hit.until > Date.now()) return Promise.resolve(hit.value);
      const pending = loading.get(clientId);
      if (pending) return pending;
      const value = load(clientId);
      loading.set(clientId, value);
      // Invalidated meanwhile: what was loaded may be stale, so it is not kept. A failed load (the
      // database down) is not kept either; the caller gets the error.
      const done = () => loading.get(clientId) === value && loading.delete(clientId);
      value.then((v) => {
        if (done()) remember(clientId, v);
      }, done);
      return value;
    },
    invalidate(clientId: string) {
      entries.delete(clientId);
      loading.delete(clientId);
    },
    /** Entries held (tests). */
    get size() {
      return entries.size;
    },
  };
}
