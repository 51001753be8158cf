// The only place that finishes an interaction, and where its invariants are checked: a login
// carries "pwd"; an account with 2FA on cannot finish without a second factor in its amr (it is
// sent to the second step instead); a request for the multi-factor acr gets it or an error, never less.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import { ACR_MFA, ACR_PASSWORD, mfaRequested } from '../oidc/acr.ts';
import { SECOND_FACTOR_AMR } from '../factors/second-factor.ts';
import type { FailureCounter } from '../factors/failure-counter.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';

/** RFC 8176 amr values. "Multi-factor" is derived from the amr list itself (habit 3). */
export function isMultiFactor(amr: readonly string[]): boolean {
  return amr.includes('pwd') && amr.some((a) => SECOND_FACTOR_AMR.has(a));
}

export function acrFor(amr: readonly string[]): string {
  return isMultiFactor(amr) ? ACR_MFA : ACR_PASSWORD;
}

export function createFinisher(deps: {
  provider: Provider; secondFactorRequired: (accountId: string) => Promise<boolean>; failures: FailureCounter; activity: ActivityRepo;
  /** After every completed sign-in (new-device alerts, issue 5). */
  onSignIn?(ctx: Ctx, accountId: string, info: RequestInfo): Promise<void>;
}) {
  const { provider } = deps;

  async function redirect(ctx: Ctx, result: Parameters<Provider['interactionResult']>[2], merge: boolean) {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  const finisher = {
    /** Finishes a sign-in, or answers 'second_factor_required' (nothing finished) when the account
     *  has 2FA on and the amr has no second factor yet: the caller then starts the second step.
     *  This is the one place that decides, so no route can finish on the password alone. */
    async login(ctx: Ctx, params: Record<string, unknown>, login: { accountId: string; amr: string[] }, info: RequestInfo): Promise<'finished' | 'second_factor_required'> {
      if (!login.accountId || !login.amr.includes('pwd')) throw new Error('finish.login: invariant violated (no password step)');
      const multi = isMultiFactor(login.amr);
      if (!multi && await deps.secondFactorRequired(login.accountId)) return 'second_factor_required';
      if (!multi && mfaRequested(params)) {
        await finisher.error(ctx, 'unmet_authentication_requirements', 'multi-factor authentication was requested; this account has no second factor enabled');
        return 'finished';
      }
      // A completed sign-in, and only that, clears the failure counters (lockout, issue 5).
      await deps.failures.reset(login.accountId);
      await deps.activity.record({ accountId: login.accountId, type: 'sign_in', ip: info.ip, device: info.device, clientId: info.clientId, application: info.application, details: { amr: login.amr } });
      await deps.onSignIn?.(ctx, login.accountId, info);
      await redirect(ctx, { login: { accountId: login.accountId, amr: login.amr, acr: acrFor(login.amr), remember: true } }, false);
      return 'finished';
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
