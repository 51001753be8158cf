// One dialect, two engines: PostgreSQL (DATABASE_URL) or PGlite under DATA_DIR (embedded default).
import path from 'node:path';
import fs from 'node:fs';
import { AsyncResource } from 'node:async_hooks';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  /** The same database without the per-query timeout requests have: migrations, signing-key
   *  writes and the periodic cleanup, whose statements may rightly take longer (three connections). */
  maintenance: Db;
  kind: 'postgres' | 'pglite';
  /** Runs a multi-statement SQL script (migrations). */
  execScript(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Connections per node (DATABASE_POOL_SIZE). */
  poolSize?: number;
  /** Connection errors of idle pooled clients (a restarting server) are reported here. */
  onConnectionError?: (err: Error) => void;
  /** A new connection was made (after an outage: the server is back). */
  onConnect?: () => void;
  /** Wraps each query's promise (metrics: latency). */
  timed?: <T>(query: () => Promise<T>) => Promise<T>;
}

/** How long a request waits for a connection (a new one, or a free one from the pool) before it is
 *  answered 503: a server that is down refuses at once, one that does not answer costs this. */
const CONNECT_TIMEOUT_MS = 1000;
/** A query the server does not answer (a partition, a stopped server) fails after this; requests'
 *  queries take milliseconds. */
const QUERY_TIMEOUT_MS = 5000;

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const pg = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const newPool = (max: number, queryTimeout?: number) => {
      const pool = new pg.default.Pool({
        connectionString: opts.databaseUrl,
        max,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: queryTimeout,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      // A pooled connection outlives the request that opened it, and pg keeps the first checkout's
      // callbacks (with the promise of that request's query) in the connection's listeners. Made in
      // the request's async context (oidc-provider runs each request in an AsyncLocalStorage), they
      // kept the whole request alive for the connection's lifetime: the pool works in a context of
      // its own. Awaiting callers still resume in theirs.
      const scope = new AsyncResource('sesame.db-pool');
      const methods = pool as unknown as Record<'connect' | 'query', (...args: unknown[]) => unknown>;
      for (const name of ['connect', 'query'] as const) {
        const original = methods[name].bind(pool);
        methods[name] = (...args) => scope.runInAsyncScope(() => original(...args));
      }
      // Every pooled query timed (metrics); a callback-style call is left as it is.
      const { timed } = opts;
      if (timed) {
        const query = methods.query;
        methods.query = (...args) =>
          typeof args[args.length - 1] === 'function'
            ? query(...args)
            : timed(() => query(...args) as Promise<unknown>);
      }
      // An idle client whose server went away emits 'error' on the pool; unhandled, that event
      // would end the process. The pool drops that client and connects anew when asked.
      pool.on('error', (err) => opts.onConnectionError?.(err));
      pool.on('connect', (client) => {
        // A checked-out client (a transaction) has no listener of the pool's: one of ours, so that
        // a connection lost mid-transaction fails that transaction and nothing else.
        client.on('error', (err) => opts.onConnectionError?.(err));
        opts.onConnect?.();
      });
      return pool;
    };
    const pool = newPool(opts.poolSize ?? 10, QUERY_TIMEOUT_MS);
    // Its own connections: the cleanup's lock and batches, a key refresh, migrations. Statements
    // may run for minutes, not for ever (a partition must not hold a round or a lock for hours).
    const maintenancePool = newPool(3, 30 * 60_000);
    return {
      db: drizzle(pool, { schema }) as unknown as Db,
      maintenance: drizzle(maintenancePool, { schema }) as unknown as Db,
      kind: 'postgres',
      async execScript(sql) {
        await maintenancePool.query(sql);
      },
      async close() {
        await Promise.all([pool.end(), maintenancePool.end()]);
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const dir = path.join(opts.dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const { timed } = opts;
  if (timed) {
    const query = client.query.bind(client);
    client.query = ((...args: Parameters<typeof query>) => timed(() => query(...args))) as typeof client.query;
  }
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    maintenance: db,
    kind: 'pglite',
    async execScript(sql) {
      await client.exec(sql);
    },
    async close() {
      await client.close();
    },
  };
}
