import { createClient } from 'redis';
import type { Store } from './store.ts';

export async function createRedisStore(url: string, prefix = 'sesame:'): Promise<Store> {
  const client = createClient({ url });
  client.on('error', () => {
    /* reconnects by itself; commands fail loudly meanwhile */
  });
  await client.connect();
  const k = (key: string) => prefix + key;
  // Subscriptions need a connection of their own, opened at the first one.
  let subscriber: ReturnType<typeof client.duplicate> | undefined;
  const subscriberReady = async () => {
    if (!subscriber) {
      subscriber = client.duplicate();
      subscriber.on('error', () => {});
      await subscriber.connect();
    }
    return subscriber;
  };

  return {
    async get(key) {
      return client.get(k(key));
    },
    async set(key, value, ttl) {
      await client.set(k(key), value, { expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttl)) } });
    },
    async setIfAbsent(key, value, ttl) {
      const r = await client.set(k(key), value, {
        condition: 'NX',
        expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttl)) },
      });
      return r === 'OK';
    },
    async getDel(key) {
      return client.getDel(k(key));
    },
    async del(...keys) {
      if (keys.length) await client.del(keys.map(k));
    },
    async incr(key, ttl) {
      const [n] = await client
        .multi()
        .incr(k(key))
        .expire(k(key), Math.max(1, Math.ceil(ttl)), 'NX')
        .exec();
      return Number(n);
    },
    async sAdd(key, member, ttl) {
      await client
        .multi()
        .sAdd(k(key), member)
        .expire(k(key), Math.max(1, Math.ceil(ttl)), 'GT')
        .expire(k(key), Math.max(1, Math.ceil(ttl)), 'NX')
        .exec();
    },
    async setIndexed(key, value, ttl, indexKey) {
      const t = Math.max(1, Math.ceil(ttl));
      const ix = Math.max(t, 60);
      await client
        .multi()
        .set(k(key), value, { expiration: { type: 'EX', value: t } })
        .sAdd(k(indexKey), key) // members are unprefixed keys, as with sAdd()
        .expire(k(indexKey), ix, 'GT')
        .expire(k(indexKey), ix, 'NX')
        .exec();
    },
    async sMembers(key) {
      return client.sMembers(k(key));
    },
    async sRem(key, member) {
      await client.sRem(k(key), member);
    },
    async publish(channel, message) {
      await client.publish(k(channel), message);
    },
    async subscribe(channel, handler) {
      const sub = await subscriberReady();
      const listener = (message: string) => handler(message);
      await sub.subscribe(k(channel), listener);
      return async () => {
        await sub.unsubscribe(k(channel), listener).catch(() => {});
      };
    },
    async ping() {
      await client.ping();
    },
    async close() {
      if (subscriber) await subscriber.quit().catch(() => {});
      await client.quit();
    },
  };
}
