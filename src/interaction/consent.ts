// POST /interaction/:uid/confirm — the user approves what the application asked for: a grant with
// the missing scopes and claims, then back to oidc-provider. POST …/abort — the user cancels.
// POST …/switch-account — "Not you?": sign out here and start the same request again.
import type Provider from 'oidc-provider';
import { form, NoFields } from '../http/form.ts';
import { AppError } from '../errors.ts';
import type { Finisher } from '../login/finish.ts';
import { interactionInfo, type InteractionCtx } from './load-interaction.ts';
import type { Sessions } from '../account/sessions.ts';
import { seeOther } from '../http/render.ts';

interface MissingGrant {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export function createConsent(deps: { provider: Provider; finish: Finisher; sessions: Sessions }) {
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
  /** "Not you?": this browser's Sesame session ends (as on the Sessions page), and the same
   *  authorization request starts again, now at the sign-in form. */
  async function switchAccount(ctx: InteractionCtx) {
    const { session, params } = ctx.state.interaction;
    if (session?.accountId && session.uid)
      await deps.sessions.end(session.accountId, session.uid, interactionInfo(ctx));
    const again = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') again.set(k, v);
    seeOther(ctx, `/authorize?${again}`);
  }
  return {
    confirm: form(NoFields, confirm),
    abort: form(NoFields, abort),
    switchAccount: form(NoFields, switchAccount),
  };
}
