// Redis when REDIS_URL is set (any number of nodes), the in-process store otherwise (one node).
import type { Store } from './store.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRedisStore, type RedisStoreOptions } from './redis-store.ts';

export async function openStore(config: { redisUrl?: string }, opts: RedisStoreOptions = {}): Promise<Store> {
  return config.redisUrl ? createRedisStore(config.redisUrl, opts) : createMemoryStore();
}
