// Liveness and readiness for load balancers and orchestrators: /health/live answers while the
// process serves requests; /health/ready only when the database and the store answer too.
import Router from '@koa/router';
import { sql } from 'drizzle-orm';
import type { SesameState } from './context.ts';
import type { Db } from '../db/client.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../lib/logger.ts';

export function createHealthRouter(deps: { database: { db: Db }; store: Store; logger: Logger }) {
  const router = new Router<SesameState>({ prefix: '/health' });
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.get('/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const [database, store] = await Promise.all([
      deps.database.db.execute(sql`SELECT 1`).then(
        () => true,
        () => false,
      ),
      deps.store.ping().then(
        () => true,
        () => false,
      ),
    ]);
    const ready = database && store;
    if (!ready) deps.logger.warn({ database, store }, 'not ready');
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? 'ok' : 'unavailable',
      database: database ? 'ok' : 'unavailable',
      store: store ? 'ok' : 'unavailable',
    };
  });
  return router;
}
