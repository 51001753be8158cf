import { createClient, ErrorReply, type RedisClientOptions } from 'redis';
import type { Store } from './store.ts';
import { DependencyDownError } from '../lib/dependency.ts';

export interface RedisStoreOptions {
  prefix?: string;
  /** Connection lost (once per outage is the caller's business) and restored. */
  onError?: (err: unknown) => void;
  onReady?: () => void;
  /** A production setting the README asks for is missing (checked at start). */
  onWarning?: (message: string) => void;
}

/** Reconnects after a lost connection: 50 ms, 100 ms, … at most 1 s apart, for ever. */
const reconnect = (retries: number) => Math.min(50 * 2 ** retries, 1000);

/** The client's options. While the connection is down nothing waits: the offline queue is off, so
 *  a command fails at once (a 503) instead of piling up behind the reconnection. There is no
 *  per-command timer either (node-redis's default 5 s AbortSignal per command kept every request
 *  alive for 5 s under load); a server that stops answering is found by the socket timeout, which
 *  the 1 s PING keeps from firing on an idle but healthy connection. */
function clientOptions(url: string): RedisClientOptions {
  return {
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: 0 },
    pingInterval: 1000,
    socket: { connectTimeout: 1000, socketTimeout: 5000, keepAlive: true, reconnectStrategy: reconnect },
  };
}

/** One connection attempt: refused or timed out means an error, not the client's endless retries
 *  (a silent hang at start); the caller decides whether to try again. */
async function connectOnce(url: string, opts: RedisStoreOptions) {
  let connected = false;
  const options = clientOptions(url);
  const client = createClient({
    ...options,
    socket: {
      ...options.socket,
      reconnectStrategy: (retries: number, cause: Error) => (connected ? reconnect(retries) : cause),
    },
  } as RedisClientOptions);
  client.on('error', (err: unknown) => {
    if (connected) opts.onError?.(err);
  });
  client.on('ready', () => opts.onReady?.());
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    throw new DependencyDownError('store', err);
  }
  connected = true;
  return client;
}

/** Replies of a server that cannot serve now (replaying its file, a read-only replica, out of
 *  memory under noeviction, a failed save, no master): the store is down, not the request wrong. */
const SERVER_UNAVAILABLE = /^(LOADING|READONLY|MISCONF|OOM|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;

/** A command Redis has not answered after this fails (503): a server that stopped answering
 *  (a partition, a paused process) must not hold requests. */
const COMMAND_DEADLINE_MS = 1000;

/** Every method's failure, but a reply the server gave on purpose (WRONGTYPE, …), means the store
 *  is down: the error handler answers 503 for it. Calls past their deadline fail the same way; one
 *  sweep timer for all of them, instead of a timer per command. */
const asOutage = (err: unknown) => (err instanceof DependencyDownError ? err : new DependencyDownError('store', err));

function tagged(store: Store): Store {
  const pending = new Set<{ at: number; reject: (err: unknown) => void }>();
  const sweep = setInterval(() => {
    const late = Date.now() - COMMAND_DEADLINE_MS;
    for (const p of pending) {
      if (p.at > late) continue;
      pending.delete(p);
      p.reject(new DependencyDownError('store', new Error('Redis did not answer in time')));
    }
  }, COMMAND_DEADLINE_MS / 4);
  sweep.unref();
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(store) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    if (name === 'available') {
      out[name] = fn;
      continue;
    }
    // A subscription may need a first connection (up to its own 1 s connect timeout), and ending it
    // late would leave its caller without one: no deadline, only the outage tagging.
    if (name === 'subscribe') {
      out[name] = (...args: unknown[]) =>
        fn.apply(store, args).catch((err: unknown) => {
          throw asOutage(err);
        });
      continue;
    }
    if (name === 'close') {
      out[name] = async () => {
        clearInterval(sweep);
        await fn.apply(store);
      };
      continue;
    }
    out[name] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const entry = { at: Date.now(), reject };
        pending.add(entry);
        fn.apply(store, args)
          .then(resolve, (err: unknown) => {
            if (err instanceof ErrorReply && !SERVER_UNAVAILABLE.test(String(err.message))) reject(err);
            else reject(asOutage(err));
          })
          .finally(() => pending.delete(entry));
      });
  }
  return out as unknown as Store;
}

/** What the README asks of a production Redis, checked at start where the server lets us read its
 *  configuration (managed services often refuse CONFIG: then nothing is said). */
async function settingsWarnings(client: Awaited<ReturnType<typeof connectOnce>>): Promise<string[]> {
  const get = async (name: string) => {
    try {
      const reply = (await client.configGet(name)) as Record<string, string>;
      return reply[name];
    } catch {
      return undefined;
    }
  };
  const [policy, aof, save] = await Promise.all([get('maxmemory-policy'), get('appendonly'), get('save')]);
  const warnings: string[] = [];
  // Every key has a TTL, so any eviction policy may drop a consumed-code marker or a sign-in in
  // progress before its time.
  if (policy && policy !== 'noeviction')
    warnings.push(`Redis maxmemory-policy is ${policy}: set noeviction, or single-use markers may be evicted early`);
  if (aof === 'no' && save === '')
    warnings.push(
      'Redis keeps nothing on disk (appendonly no, no save): a Redis restart loses sign-ins in progress and access tokens; set appendonly yes',
    );
  return warnings;
}

export async function createRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<Store> {
  const prefix = opts.prefix ?? 'sesame:';
  const client = await connectOnce(url, opts);
  for (const w of await settingsWarnings(client)) opts.onWarning?.(w);
  const k = (key: string) => prefix + key;
  // Subscriptions need a connection of their own, opened at the first one (node-redis subscribes
  // again by itself after a reconnection).
  let subscriber: Awaited<ReturnType<typeof connectOnce>> | undefined;
  const subscriberReady = async () => {
    subscriber ??= await connectOnce(url, opts);
    // Down now: fail at once, like any other command.
    if (!subscriber.isReady) throw new DependencyDownError('store');
    return subscriber;
  };

  return tagged({
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
    available: () => client.isReady,
    async close() {
      // quit() waits for replies; a server that is down will not send them.
      for (const c of [subscriber, client]) {
        if (!c) continue;
        if (c.isReady) await c.quit().catch(() => c.destroy());
        else c.destroy();
      }
    },
  });
}
