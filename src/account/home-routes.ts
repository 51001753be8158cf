import Router from '@koa/router';
import type { SesameState } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import type { SessionGuard } from './session-guard.ts';

export function createHomeRouter(deps: { guard: SessionGuard }) {
  const { guard } = deps;
  const router = new Router<SesameState>();
  router.get('/', async (ctx) => {
    const account = await guard.currentAccount(ctx);
    renderPage(ctx, 'home', { account, deleted: !account && ctx.query.deleted === '1' });
  });
  router.get('/account/callback', (ctx) => guard.callback(ctx));
  router.get('/account', guard.require, (ctx) => renderPage(ctx, 'account', { account: (ctx.state as { account?: unknown }).account }));
  return router;
}
