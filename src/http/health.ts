// Liveness and readiness for load balancers and orchestrators: /healthz (also /livez, /health/live) answers
// while the process serves requests; /readyz (also /health/ready) only when PostgreSQL and the store
// answer within a second and the node is not shutting down — and says which one is missing.
import Router from '@koa/router';
import { sql } from 'drizzle-orm';
import type { SesameState } from './context.ts';
import type { Db } from '../db/client.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../lib/logger.ts';
import type { Lifecycle } from '../lib/lifecycle.ts';
import { RETRY_AFTER_SECONDS } from '../lib/dependency.ts';

const PROBE_TIMEOUT_MS = 1000;

/** True when `probe` succeeds within the timeout. */
async function answers(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      probe().then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRouter(deps: { database: { db: Db }; store: Store; logger: Logger; lifecycle: Lifecycle }) {
  const router = new Router<SesameState>();
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const live = (ctx: { body: unknown }) => {
    ctx.body = { status: 'ok' };
  };
  const ready = async (ctx: Parameters<Parameters<typeof router.get>[1]>[0]) => {
    const [database, store] = await Promise.all([
      answers(() => deps.database.db.execute(sql`SELECT 1`)),
      answers(() => deps.store.ping()),
    ]);
    const draining = deps.lifecycle.draining;
    const ok = database && store && !draining;
    if (!database || !store) deps.logger.debug({ database, store }, 'not ready');
    ctx.status = ok ? 200 : 503;
    if (!ok) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = {
      status: ok ? 'ok' : draining ? 'shutting_down' : 'unavailable',
      database: database ? 'ok' : 'unavailable',
      store: store ? 'ok' : 'unavailable',
      ...(!ok ? { missing: [...(database ? [] : ['database']), ...(store ? [] : ['store'])] } : {}),
    };
  };
  router.get('/healthz', live);
  router.get('/livez', live);
  router.get('/health/live', live);
  router.get('/readyz', ready);
  router.get('/health/ready', ready);
  return router;
}
