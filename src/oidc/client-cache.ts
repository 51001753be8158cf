// Client metadata is read on every token, introspection and userinfo request. A per-node cache of
// a couple of seconds takes the database off that hot path; a change made on this node is seen at
// once (invalidate), one made on another node within CLIENT_CACHE_MS.
import type { AdapterPayload } from 'oidc-provider';

const CLIENT_CACHE_MS = 2000;

export function createClientCache(
  load: (clientId: string) => Promise<AdapterPayload | undefined>,
  ttlMs = CLIENT_CACHE_MS,
) {
  const entries = new Map<string, { value: Promise<AdapterPayload | undefined>; until: number }>();
  return {
    find(clientId: string): Promise<AdapterPayload | undefined> {
      const now = Date.now();
      const hit = entries.get(clientId);
      if (hit && hit.until > now) return hit.value;
      const value = load(clientId);
      entries.set(clientId, { value, until: now + ttlMs });
      value.catch(() => entries.delete(clientId));
      if (entries.size > 10_000) for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
      return value;
    },
    invalidate(clientId: string) {
      entries.delete(clientId);
    },
  };
}
