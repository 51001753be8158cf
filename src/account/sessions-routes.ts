// The Sessions page: every browser signed in to this account — browser and system, address and
// place, signed in at, last active, which one is this one — with "end" for each and for all others.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Provider from 'oidc-provider';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { requestInfo } from '../http/request-info.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { SessionGuard } from './session-guard.ts';
import type { Sessions } from './sessions.ts';
import { describePlace } from '../lib/user-agent.ts';

export function createSessionsRouter(deps: { csrf: Csrf; guard: SessionGuard; sessions: Sessions; provider: Provider }) {
  const { csrf, guard, sessions } = deps;
  const router = new Router<SesameState>({ prefix: '/account/sessions' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '8kb' }), guard.require);
  router.use(csrf.forChanges);
  const accountOf = (ctx: Ctx) => (ctx.state as { account?: Account }).account!;
  const currentUid = async (ctx: Ctx) => (await deps.provider.Session.get(ctx as never)).uid;
  const seeOther = (ctx: Ctx, to: string) => { ctx.status = 303; ctx.redirect(to); };

  router.get('/', async (ctx) => {
    const account = accountOf(ctx);
    const current = await currentUid(ctx);
    const list = (await sessions.list(account.id)).map((s) => ({ ...s, place: s.ip ? describePlace(s.ip) : 'unknown', current: s.uid === current }));
    list.sort((a, b) => Number(b.current) - Number(a.current));
    renderPage(ctx, 'sessions', { sessions: list, zone: account.zoneinfo, done: typeof ctx.query.done === 'string' ? ctx.query.done : undefined });
  });
  router.post('/end-others', async (ctx) => {
    const n = await sessions.endAll(accountOf(ctx).id, await currentUid(ctx), requestInfo(ctx));
    seeOther(ctx, `/account/sessions?done=${n ? 'ended' : 'none'}`);
  });
  router.post('/:uid/end', async (ctx) => {
    const uid = String(ctx.params.uid);
    const mine = uid === (await currentUid(ctx));
    await sessions.end(accountOf(ctx).id, uid, requestInfo(ctx));
    // Ending this very session signs this browser out.
    seeOther(ctx, mine ? '/' : '/account/sessions?done=ended');
  });
  return router;
}
