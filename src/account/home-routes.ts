// The start page (signed in or not), the account menu, and the way back from signing in to it.
import Router from '@koa/router';
import type { SesameState, AccountState } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import type { AccountSession } from '../http/require-account.ts';

export function createHomeRouter(deps: { accountSession: AccountSession }) {
  const { accountSession } = deps;
  const router = new Router<SesameState>();
  router.get('/', async (ctx) => {
    const account = await accountSession.currentAccount(ctx);
    renderPage(ctx, 'home', { account, deleted: !account && ctx.query.deleted === '1' });
  });
  router.get('/account/callback', (ctx) => accountSession.callback(ctx));
  const account = new Router<AccountState>();
  account.get('/account', accountSession.requireAccount, (ctx) =>
    renderPage(ctx, 'account', { account: ctx.state.account }),
  );
  router.use(account.routes());
  return router;
}
