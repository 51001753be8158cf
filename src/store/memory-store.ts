import { EventEmitter } from 'node:events';
import type { Store } from './store.ts';

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/** The embedded default's store: one node, one process. JS is single-threaded, so every method is atomic. */
export function createMemoryStore(now: () => number = Date.now): Store {
  const map = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const e = map.get(key);
    if (e && e.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return e;
  };
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, e] of map) if (e.expiresAt <= t) map.delete(k);
  }, 60_000);
  sweep.unref();

  return {
    async get(key) {
      const e = live(key);
      return typeof e?.value === 'string' ? e.value : null;
    },
    async set(key, value, ttl) {
      map.set(key, { value, expiresAt: now() + ttl * 1000 });
    },
    async setIfAbsent(key, value, ttl) {
      if (live(key)) return false;
      map.set(key, { value, expiresAt: now() + ttl * 1000 });
      return true;
    },
    async getDel(key) {
      const e = live(key);
      map.delete(key);
      return typeof e?.value === 'string' ? e.value : null;
    },
    async del(...keys) {
      for (const k of keys) map.delete(k);
    },
    async incr(key, ttl) {
      const e = live(key);
      const n = (e ? Number(e.value) : 0) + 1;
      map.set(key, { value: String(n), expiresAt: e ? e.expiresAt : now() + ttl * 1000 });
      return n;
    },
    async sAdd(key, member, ttl) {
      const e = live(key);
      const set = e?.value instanceof Set ? e.value : new Set<string>();
      set.add(member);
      map.set(key, { value: set, expiresAt: Math.max(e?.expiresAt ?? 0, now() + ttl * 1000) });
    },
    async setIndexed(key, value, ttl, indexKey) {
      await this.set(key, value, ttl);
      await this.sAdd(indexKey, key, Math.max(ttl, 60));
    },
    async sMembers(key) {
      const e = live(key);
      return e?.value instanceof Set ? [...e.value] : [];
    },
    async sRem(key, member) {
      const e = live(key);
      if (e?.value instanceof Set) e.value.delete(member);
    },
    async publish(channel, message) {
      bus.emit(channel, message);
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
      return async () => {
        bus.off(channel, handler);
      };
    },
    async ping() {},
    available: () => true,
    async close() {
      clearInterval(sweep);
      map.clear();
      bus.removeAllListeners();
    },
  };
}
