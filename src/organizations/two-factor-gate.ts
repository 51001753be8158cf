// "Can do nothing else until it is done": while an organization of the account requires 2FA and
// the account has no second factor (two-factor-policy.ts), every account page but the ones needed to
// enrol one — and to leave instead, or sign out (/logout is no account page) — answers 303 to
// /account/security/required, which says why and how. A sign-in to a relying party meanwhile stops at
// the organization prompt (two-factor-prompt.ts), whose "set it up now" comes here with the
// interaction to go back to: kept in a cookie across the enrolment pages, and followed by the first
// account page seen once a factor is enrolled (the backup codes page's "continue").
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountCtx, AccountState } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form } from '../http/form.ts';
import { safeReturnPath } from '../http/return-path.ts';
import { requestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Db } from '../db/client.ts';
import type { TwoFactorPolicy } from './two-factor-policy.ts';
import type { AccessRevoker } from './revoke-access.ts';
import { createConsoleQueries } from './console-queries.ts';
import { canLeaveInsteadOf2fa } from './policy.ts';

export const REQUIRED_PATH = '/account/security/required';
const RETURN_COOKIE = 'sesame.org_2fa_return';

/** What a member without a second factor may still open: this page, leaving instead (its own
 *  action, for the external users the policy lets leave instead: canLeaveInsteadOf2fa), and the
 *  enrolment routes of account/security-routes.ts (with the password confirmation they may ask for,
 *  and the backup codes shown after the first method). */
const OPEN_WHILE_PENDING = [
  /^\/account\/security\/required(\/leave)?$/,
  /^\/account\/security\/confirm-password$/,
  /^\/account\/security\/(totp|webauthn|sms|push)\/new$/,
  /^\/account\/security\/(totp|webauthn|sms)$/,
  /^\/account\/security\/sms\/(code|resend|confirm)$/,
  /^\/account\/security\/push\/enrolments\/[\w-]+(\/done)?$/,
  /^\/account\/security\/backup-codes$/,
];
/** Pages that finish an enrolment: the way back to an interaction waits until they were seen. */
const FINISHING = /^\/account\/security\/(backup-codes|push\/enrolments\/)/;

/** An interaction path to go back to (never anything else: no open redirect). */
const interactionPath = (v: unknown) => {
  const path = safeReturnPath(v);
  return path?.startsWith('/interaction/') ? path : undefined;
};

const cookieOpts = (ctx: AccountCtx) =>
  ({ httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, path: '/account' }) as const;
const clearReturn = (ctx: AccountCtx) => ctx.cookies.set(RETURN_COOKIE, null, { path: '/account' });

/** The account-page hook (deps.ts accountPageHooks). */
export function createTwoFactorGate(deps: { twoFactorPolicy: TwoFactorPolicy }) {
  const { twoFactorPolicy: policy } = deps;
  /** The account-page hook (deps.ts accountPageHooks): true when it answered instead of the page. */
  async function accountPage(ctx: AccountCtx): Promise<boolean> {
    const pending = await policy.pending(ctx.state.account.id);
    if (pending) {
      if (OPEN_WHILE_PENDING.some((re) => re.test(ctx.path))) return false;
      seeOther(ctx, REQUIRED_PATH);
      return true;
    }
    // Enrolled: a sign-in that stopped at the organization prompt goes on.
    const back = interactionPath(ctx.cookies.get(RETURN_COOKIE));
    if (back && ctx.method === 'GET' && !FINISHING.test(ctx.path)) {
      clearReturn(ctx);
      seeOther(ctx, back);
      return true;
    }
    return false;
  }
  return { accountPage };
}

/** /account/security/required: why, which organizations, the ways to set 2FA up, and leaving
 *  instead for an external user. */
export function createTwoFactorRequiredRouter(deps: {
  twoFactorPolicy: TwoFactorPolicy;
  accountSession: AccountSession;
  accessRevoker: AccessRevoker;
  database: { db: Db };
  repos: { activity: ActivityRepo };
  factors: { webauthn: { available: boolean } };
}) {
  const { twoFactorPolicy: policy } = deps;
  const queries = createConsoleQueries(deps.database.db);

  async function requiredPage(ctx: AccountCtx) {
    const { account } = ctx.state;
    const back = interactionPath(ctx.query.return);
    if (back) ctx.cookies.set(RETURN_COOKIE, back, cookieOpts(ctx));
    if (!(await policy.pending(account.id))) {
      if (back) clearReturn(ctx);
      return seeOther(ctx, back ?? '/account/security');
    }
    const organizations = (await policy.requiring(account.id)).map((o) => ({
      ...o,
      canLeave: canLeaveInsteadOf2fa(o.role),
    }));
    renderPage(ctx, 'org/two-factor-required', {
      organizations,
      webauthnAvailable: deps.factors.webauthn.available,
    });
  }

  const LeaveForm = z.object({ organization_id: z.string().trim().max(64), return: z.string().max(200).optional() });
  async function leave(ctx: AccountCtx, input: z.output<typeof LeaveForm>) {
    const { account } = ctx.state;
    const org = (await policy.requiring(account.id)).find((o) => o.id === input.organization_id);
    // Only an organization that requires it of this account: any other id is refused as unknown.
    if (!org) throw new AppError('not_found');
    if (!canLeaveInsteadOf2fa(org.role)) throw new AppError('forbidden');
    // What the account held for the organization's applications goes first, then the membership.
    await deps.accessRevoker.revokeMemberAccess(account.id, org.id);
    if (!(await queries.leaveAsExternal(org.id, account.id))) throw new AppError('not_found');
    await deps.repos.activity.record({
      ...requestInfo(ctx),
      accountId: account.id,
      type: 'org_left',
      details: { organization: org.name, organizationId: org.id },
    });
    const back = interactionPath(input.return) ?? interactionPath(ctx.cookies.get(RETURN_COOKIE));
    if (await policy.pending(account.id)) {
      if (back) ctx.cookies.set(RETURN_COOKIE, back, cookieOpts(ctx));
      return seeOther(ctx, REQUIRED_PATH);
    }
    clearReturn(ctx);
    seeOther(ctx, back ?? '/account');
  }

  const router = new Router<AccountState>({ prefix: REQUIRED_PATH });
  router.use(deps.accountSession.requireAccount);
  router.get('/', requiredPage);
  router.post('/leave', form(LeaveForm, leave, undefined, { limit: '8kb' }));

  return router;
}
