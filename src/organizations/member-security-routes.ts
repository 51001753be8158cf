// The security console's actions on one member (views/org/partials-member-security.eta, on the
// member's page): block and unblock (a blocked member keeps the role but can sign in to none of the
// organization's applications, and loses what they held for them: revoke-access.ts), unlock a
// locked account (the lockout's own unlock, as `sesame user unlock`), and a security alert. A member
// id of another organization is refused as unknown (404).
import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Ctx } from '../http/context.ts';
import { seeOther } from '../http/render.ts';
import { form } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { Membership } from '../db/repositories/organizations.ts';
import { allow, type OrgState } from './context.ts';
import { canBlockMember, canUnlockMember, canAlertMember, type Actor } from './policy.ts';
import { createConsoleQueries } from './console-queries.ts';
import { orgUnlockedEmail } from './console-emails.ts';
import { recordBoth } from './console-activity.ts';
import { createMemberAlerts } from './member-alerts.ts';

interface MemberState extends OrgState {
  target: { membership: Membership; account: Account };
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
    alert: canAlertMember(actor) && !self,
  };
}

export function createMemberSecurityRouter(deps: Deps) {
  const queries = createConsoleQueries(deps.database.db);
  const alerts = createMemberAlerts(deps);
  const router = new Router<MemberState>({ prefix: '/account/organizations/:orgId/members/:accountId' });
  router.use(deps.accountSession.requireAccount, deps.organizationContext.loadOrganization);

  /** The member named in the URL, if a member of this organization. */
  async function target(ctx: MemberCtx, next: Next) {
    const found = await queries.member(ctx.state.organization.id, String(ctx.params.accountId));
    if (!found) throw new AppError('not_found');
    ctx.state.target = found;
    await next();
  }
  const memberPage = (ctx: MemberCtx, done: string) =>
    seeOther(
      ctx,
      `/account/organizations/${ctx.state.organization.id}/members/${ctx.state.target.account.id}?done=${done}`,
    );
  const self = (ctx: MemberCtx) => ctx.state.target.account.id === ctx.state.account.id;
  const opts = { limit: '8kb' };

  /** Blocks or unblocks: the policy asked first on what the request saw, then again under the
   *  organization's lock on what the memberships are (console-queries.ts setBlocked). */
  async function setBlocked(ctx: MemberCtx, blocked: boolean): Promise<boolean> {
    const { organization, role, target: t, account } = ctx.state;
    allow(canBlockMember(role, t.membership.role, self(ctx)));
    const change = { organizationId: organization.id, actorId: account.id, accountId: t.account.id, blocked };
    // Refused under the lock: forbidden (the actor was blocked or demoted meanwhile), or the target
    // is the last legal representative who can act.
    let refusal: 'forbidden' | 'last_legal_rep' = 'forbidden';
    const result = await queries.setBlocked(change, (actor, target, n) => {
      if (!canBlockMember(actor, target, self(ctx))) return false;
      if (!blocked || canBlockMember(actor, target, self(ctx), n)) return true;
      refusal = 'last_legal_rep';
      return false;
    });
    if (result === 'refused') throw new AppError(refusal);
    if (result === 'not_member') throw new AppError('not_found');
    return result === 'done';
  }
  async function block(ctx: MemberCtx) {
    const { organization, target: t } = ctx.state;
    if (await setBlocked(ctx, true)) {
      await deps.accessRevoker.revokeMemberAccess(t.account.id, organization.id);
      await recordBoth(deps.repos.activity, ctx, 'org_member_blocked', { organization, member: t.account });
    }
    memberPage(ctx, 'blocked');
  }
  async function unblock(ctx: MemberCtx) {
    const { organization, target: t } = ctx.state;
    if (await setBlocked(ctx, false))
      await recordBoth(deps.repos.activity, ctx, 'org_member_unblocked', { organization, member: t.account });
    memberPage(ctx, 'unblocked');
  }
  async function unlock(ctx: MemberCtx) {
    const { organization, role, target: t, account } = ctx.state;
    allow(canUnlockMember(role, self(ctx)));
    // Only a locked account (or one of its browsers, locked by the member's own wrong answers):
    // otherwise there is nothing to do, and nobody is emailed.
    const locked = t.account.lockedAt || (await deps.repos.trustedDevices.anyLocked(t.account.id));
    if (!locked) return memberPage(ctx, 'not_locked');
    if (await deps.lockout.unlock(t.account.id, 'organization', requestInfo(ctx))) {
      await recordBoth(deps.repos.activity, ctx, 'org_member_unlocked', { organization, member: t.account });
      const mail = { organization: organization.name, by: account.email, at: new Date(deps.clock.now()) };
      await deps.mailer.send(orgUnlockedEmail(deps.config.issuer, t.account, mail));
    }
    memberPage(ctx, 'unlocked');
  }
  async function alert(ctx: MemberCtx) {
    const { organization, role, target: t } = ctx.state;
    allow(canAlertMember(role) && !self(ctx));
    const has2fa = await deps.secondStep.required(t.account.id);
    if (!(await alerts.send(ctx, organization, t.account, has2fa))) throw new AppError('rate_limited');
    memberPage(ctx, 'alerted');
  }
  router.post('/block', target, form(z.object({}), block, undefined, opts));
  router.post('/unblock', target, form(z.object({}), unblock, undefined, opts));
  router.post('/unlock', target, form(z.object({}), unlock, undefined, opts));
  router.post('/alert', target, form(z.object({}), alert, undefined, opts));
  return router;
}
