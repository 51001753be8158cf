// POST /interaction/:uid/confirm — the user approves what the application asked for: a grant with
// the missing scopes and claims, then back to oidc-provider. POST …/abort — the user cancels.
import type Provider from 'oidc-provider';
import { form, NoFields } from '../http/form.ts';
import { AppError } from '../errors.ts';
import type { Finisher } from '../login/finish.ts';
import type { InteractionCtx } from './load-interaction.ts';

interface MissingGrant {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export function createConsent(deps: { provider: Provider; finish: Finisher }) {
  const { provider } = deps;
  async function confirm(ctx: InteractionCtx) {
    const { prompt, params, session, grantId: existing } = ctx.state.interaction;
    if (!session?.accountId) throw new AppError('session_expired');
    const grant = existing
      ? await provider.Grant.find(existing)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) throw new AppError('session_expired');
    const missing = prompt.details as MissingGrant;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    await deps.finish.consent(ctx, await grant.save());
  }
  const abort = (ctx: InteractionCtx) => deps.finish.error(ctx, 'access_denied', 'End-User aborted interaction');
  return { confirm: form(NoFields, confirm), abort: form(NoFields, abort) };
}
