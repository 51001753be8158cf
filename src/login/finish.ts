// The only place that finishes an interaction, and where its invariants are checked: a login
// carries "pwd"; an account whose email is not confirmed gets no session and no tokens (it is shown
// "confirm your email first" — pre-account hijacking: whoever signed up with someone else's address
// must not sign in anywhere before its owner could object); an account with 2FA on cannot finish
// without a second factor in its amr (it waits for the second step instead); a request for the
// multi-factor acr gets it or an error, never less.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { ACR_MFA, ACR_PASSWORD, mfaRequested } from '../oidc/acr.ts';
import { SECOND_FACTOR_AMR } from '../factors/second-factor.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Lockout } from './lockout.ts';
import type { Alerts } from './alerts.ts';
import type { PendingLogin, PendingLogins } from './pending-login.ts';

/** RFC 8176 amr values. "Multi-factor" is derived from the amr list itself (habit 3). */
export function isMultiFactor(amr: readonly string[]): boolean {
  return amr.includes('pwd') && amr.some((a) => SECOND_FACTOR_AMR.has(a));
}

export function acrFor(amr: readonly string[]): string {
  return isMultiFactor(amr) ? ACR_MFA : ACR_PASSWORD;
}

/** The interaction being finished: its uid and the authorization request's parameters. */
export interface FinishingInteraction {
  uid: string;
  params: Record<string, unknown>;
}

type InteractionResult = Parameters<Provider['interactionResult']>[2];

export function createFinisher(deps: {
  provider: Provider;
  secondStep: { required(accountId: string): Promise<boolean> };
  pending: PendingLogins;
  lockout: Lockout;
  activity: ActivityRepo;
  alerts: Alerts;
}) {
  const { provider } = deps;

  async function redirect(ctx: Ctx, result: InteractionResult, merge: boolean) {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  const finisher = {
    /** Finishes a sign-in. When the account has 2FA on and the amr has no second factor yet, the
     *  login waits for its second step instead (303 to the same page, which now asks for it). This
     *  is the one place that decides, so no route can finish on the password alone. */
    async login(ctx: Ctx, interaction: FinishingInteraction, login: PendingLogin, info: RequestInfo): Promise<void> {
      if (!login.accountId || !login.amr.includes('pwd'))
        throw new Error('finish.login: invariant violated (no password step)');
      if (login.emailVerified !== true) {
        await deps.pending.awaitEmail(interaction.uid, login.accountId);
        return renderPage(ctx, 'verify-first', { uid: interaction.uid }, 403);
      }
      const multi = isMultiFactor(login.amr);
      if (!multi && (await deps.secondStep.required(login.accountId))) {
        await deps.pending.start(interaction.uid, login);
        ctx.status = 303;
        return ctx.redirect(`/interaction/${interaction.uid}`);
      }
      if (!multi && mfaRequested(interaction.params)) {
        const why = 'multi-factor authentication was requested; this account has no second factor enabled';
        return finisher.error(ctx, 'unmet_authentication_requirements', why);
      }
      // A completed sign-in, and only that, forgives the failed attempts (lockout) and makes this
      // browser a trusted one for the account.
      await deps.lockout.signedIn(ctx, login.accountId);
      await deps.activity.record({ ...info, accountId: login.accountId, type: 'sign_in', details: { amr: login.amr } });
      await deps.alerts.afterSignIn(ctx, login.accountId, info);
      const result = { accountId: login.accountId, amr: login.amr, acr: acrFor(login.amr), remember: true };
      await redirect(ctx, { login: result }, false);
    },
    async consent(ctx: Ctx, grantId: string) {
      await redirect(ctx, { consent: { grantId } }, true);
    },
    async error(ctx: Ctx, error: string, description: string) {
      await redirect(ctx, { error, error_description: description }, false);
    },
  };
  return finisher;
}
export type Finisher = ReturnType<typeof createFinisher>;
