// The Sessions page: every browser signed in to this account — browser and system, address and
// place, signed in at, last active, which one is this one — with "end" for each and for all others.
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { AccountState, AccountCtx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, NoFields } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { Sessions } from './sessions.ts';
import { describePlace } from '../lib/user-agent.ts';
import { sessionOf } from '../oidc/session.ts';

export function createSessionsRouter(deps: { accountSession: AccountSession; sessions: Sessions; provider: Provider }) {
  const { sessions } = deps;
  const router = new Router<AccountState>({ prefix: '/account/sessions' });
  router.use(deps.accountSession.requireAccount);
  const currentUid = async (ctx: AccountCtx) => (await sessionOf(deps.provider, ctx)).uid;
  const opts = { limit: '8kb' };

  router.get('/', async (ctx) => {
    const { account } = ctx.state;
    const current = await currentUid(ctx);
    const list = (await sessions.list(account.id)).map((s) => ({
      ...s,
      place: s.ip ? describePlace(s.ip) : 'unknown',
      current: s.uid === current,
    }));
    list.sort((a, b) => Number(b.current) - Number(a.current));
    const done = typeof ctx.query.done === 'string' ? ctx.query.done : undefined;
    renderPage(ctx, 'sessions', { sessions: list, zone: account.zoneinfo, done });
  });
  async function endOthers(ctx: AccountCtx) {
    const n = await sessions.endAll(ctx.state.account.id, await currentUid(ctx), requestInfo(ctx));
    seeOther(ctx, `/account/sessions?done=${n ? 'ended' : 'none'}`);
  }
  router.post('/end-others', form(NoFields, endOthers, undefined, opts));
  async function endOne(ctx: AccountCtx) {
    const uid = String(ctx.params.uid);
    const mine = uid === (await currentUid(ctx));
    await sessions.end(ctx.state.account.id, uid, requestInfo(ctx));
    // Ending this very session signs this browser out.
    seeOther(ctx, mine ? '/' : '/account/sessions?done=ended');
  }
  router.post('/:uid/end', form(NoFields, endOne, undefined, opts));
  return router;
}
