// Memory stays flat under load (issue 11, item 7): nothing long-lived keeps a request alive. oidc-provider
// runs each request in an AsyncLocalStorage whose store is the request's context, so any socket,
// timer or promise made during a request and kept afterwards keeps that whole request (Koa context,
// body, response). The load itself is measured by `npm run bench:memory` (test/bench/memory.ts).
import { describe, it, expect } from 'vitest';
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/db/client.ts';
import { collected } from './helpers/gc.ts';

describe('memory', () => {
  it.skipIf(!process.env.DATABASE_URL)(
    'memory.db-connection-keeps-no-request-context: a pooled PostgreSQL connection opened during a request does not keep that request alive',
    async () => {
      const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: os.tmpdir(), poolSize: 1 });
      try {
        const als = new AsyncLocalStorage<{ request: object }>();
        let request: WeakRef<object> | undefined;
        await (async () => {
          const ctx = { request: { body: new Array(10_000).fill('x') } };
          request = new WeakRef(ctx.request);
          // The pool's first connection is opened here, inside the request.
          await als.run(ctx, async () => {
            await database.db.execute(sql`select 1`); // (a lazy thenable: run it inside)
          });
        })();
        expect(await collected(request!)).toBe(true);
        // The connection is still the pool's, and still works.
        await database.db.execute(sql`select 1`);
      } finally {
        await database.close();
      }
    },
  );
});
