// The per-node client cache (src/oidc/client-cache.ts): one query per client per couple of seconds,
// and nothing of the request that caused a load kept alive by the cache (issue 11, item 7).
import { describe, it, expect } from 'vitest';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdapterPayload } from 'oidc-provider';
import { createClientCache } from '../../src/oidc/client-cache.ts';
import { collected } from '../helpers/gc.ts';

function counting(result: (id: string) => AdapterPayload | undefined = (id) => ({ client_id: id })) {
  const calls: string[] = [];
  return { calls, load: async (id: string) => (calls.push(id), result(id)) };
}

describe('client cache', () => {
  it('memory.client-cache-keeps-no-request-context: a cached client does not keep the request that loaded it alive', async () => {
    // oidc-provider runs every request in an AsyncLocalStorage whose store is the request's context.
    const als = new AsyncLocalStorage<{ request: object }>();
    const { load } = counting();
    const cache = createClientCache(load, 60_000);
    let request: WeakRef<object> | undefined;
    await (async () => {
      const ctx = { request: { body: new Array(10_000).fill('x') } };
      request = new WeakRef(ctx.request);
      await als.run(ctx, () => cache.find('web'));
    })();
    expect(await collected(request!)).toBe(true);
    expect(await cache.find('web')).toEqual({ client_id: 'web' }); // and the client still cached
  });

  it('memory.client-cache-bounded: unknown client ids from anyone do not grow the cache without bound', async () => {
    const { calls, load } = counting(() => undefined);
    const cache = createClientCache(load, 60_000);
    for (let i = 0; i < 20_000; i++) await cache.find(`random-${i}`);
    expect(cache.size).toBeLessThanOrEqual(1000);
    // The newest are the ones kept.
    const before = calls.length;
    expect(await cache.find('random-19999')).toBeUndefined();
    expect(calls.length).toBe(before);
  });

  it('one load per client while fresh, also for concurrent misses; invalidate and expiry load again', async () => {
    let now = 0;
    const { calls, load } = counting();
    const cache = createClientCache(load, 2000);
    const realNow = Date.now;
    Date.now = () => now;
    try {
      await Promise.all([cache.find('a'), cache.find('a'), cache.find('a')]);
      await cache.find('a');
      expect(calls).toEqual(['a']);
      cache.invalidate('a');
      await cache.find('a');
      expect(calls).toEqual(['a', 'a']);
      now += 2001;
      await cache.find('a');
      expect(calls).toEqual(['a', 'a', 'a']);
    } finally {
      Date.now = realNow;
    }
  });

  it('a failed load is not cached, and a load invalidated while under way is not kept', async () => {
    let fail = true;
    const calls: string[] = [];
    const cache = createClientCache(async (id) => {
      calls.push(id);
      if (fail) throw new Error('database down');
      return { client_id: id, n: calls.length };
    }, 60_000);
    await expect(cache.find('a')).rejects.toThrow('database down');
    fail = false;
    const loading = cache.find('a');
    cache.invalidate('a'); // e.g. the application was changed meanwhile
    await loading;
    expect(await cache.find('a')).toEqual({ client_id: 'a', n: 3 });
    expect(calls).toHaveLength(3);
  });
});
