// The only place that finishes an interaction, and where its invariants are checked.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import { ACR_MFA, ACR_PASSWORD } from '../oidc/provider.ts';

/** RFC 8176 amr values. "Multi-factor" is derived from the amr list itself (habit 3). */
export function acrFor(amr: readonly string[]): string {
  return amr.length >= 2 ? ACR_MFA : ACR_PASSWORD;
}

export async function finishLogin(provider: Provider, ctx: Ctx, login: { accountId: string; amr: string[] }) {
  if (!login.amr.includes('pwd') || !login.accountId) throw new Error('finishLogin: invariant violated');
  const to = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: login.accountId, amr: login.amr, acr: acrFor(login.amr), remember: true },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(to);
}

export async function finishConsent(provider: Provider, ctx: Ctx, grantId: string) {
  const to = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(to);
}

export async function finishWithError(provider: Provider, ctx: Ctx, error: string, description: string) {
  const to = await provider.interactionResult(ctx.req, ctx.res, { error, error_description: description }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(to);
}
