// The security console's actions on one member (views/org/partials-member-security.eta, on the
// member's page): block and unblock (a blocked member keeps the role but can sign in to none of the
// organization's applications, and loses what they held for them: revoke-access.ts), unlock a
// locked account (the lockout's own unlock, as `sesame user unlock`), and a security alert. A member
// id of another organization is refused as unknown (404). The actions themselves are
// member-security.ts, which the API calls too.
import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Ctx } from '../http/context.ts';
import { seeOther } from '../http/render.ts';
import { form } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { Membership } from '../db/repositories/organizations.ts';
import type { OrgState } from './context.ts';
import { canBlockMember, canUnlockMember, canAlertMember, type Actor } from './policy.ts';
import { createMemberSecurity, type MemberTarget } from './member-security.ts';

interface MemberState extends OrgState {
  target: MemberTarget;
}
type MemberCtx = Ctx<MemberState>;

/** The member page's buttons (the routes below ask the same functions). */
export function memberSecurityActions(
  actor: Actor,
  actorId: string,
  member: { accountId: string; role: Membership['role']; blockedAt: Date | null; lockedAt: Date | null },
) {
  const self = member.accountId === actorId;
  const blockable = canBlockMember(actor, member.role, self);
  return {
    block: blockable && !member.blockedAt,
    unblock: blockable && !!member.blockedAt,
    unlock: canUnlockMember(actor, self) && !!member.lockedAt,
    alert: canAlertMember(actor, self),
  };
}

export function createMemberSecurityRouter(deps: Deps) {
  const security = createMemberSecurity(deps);
  const router = new Router<MemberState>({ prefix: '/account/organizations/:orgId/members/:accountId' });
  router.use(deps.accountSession.requireAccount, deps.organizationContext.loadOrganization);

  /** The member named in the URL, if a member of this organization. */
  async function target(ctx: MemberCtx, next: Next) {
    const found = await security.member(ctx.state.organization.id, String(ctx.params.accountId));
    if (!found) throw new AppError('not_found');
    ctx.state.target = found;
    await next();
  }
  const memberPage = (ctx: MemberCtx, done: string) =>
    seeOther(
      ctx,
      `/account/organizations/${ctx.state.organization.id}/members/${ctx.state.target.account.id}?done=${done}`,
    );
  const actor = (ctx: MemberCtx) => ({ account: ctx.state.account, role: ctx.state.role, info: requestInfo(ctx) });
  const opts = { limit: '8kb' };
  const action =
    (run: (ctx: MemberCtx) => Promise<string>) =>
    async (ctx: MemberCtx): Promise<void> =>
      memberPage(ctx, await run(ctx));

  const block = action(async (ctx) => {
    await security.block(actor(ctx), ctx.state.organization, ctx.state.target);
    return 'blocked';
  });
  const unblock = action(async (ctx) => {
    await security.unblock(actor(ctx), ctx.state.organization, ctx.state.target);
    return 'unblocked';
  });
  const unlock = action((ctx) => security.unlock(actor(ctx), ctx.state.organization, ctx.state.target));
  const alert = action(async (ctx) => {
    await security.alert(actor(ctx), ctx.state.organization, ctx.state.target);
    return 'alerted';
  });
  router.post('/block', target, form(z.object({}), block, undefined, opts));
  router.post('/unblock', target, form(z.object({}), unblock, undefined, opts));
  router.post('/unlock', target, form(z.object({}), unlock, undefined, opts));
  router.post('/alert', target, form(z.object({}), alert, undefined, opts));
  return router;
}
