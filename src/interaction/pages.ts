// The interaction's pages, each also the form view that shows it again after an error.
import { renderPage } from '../http/render.ts';
import { formData, type FormState } from '../http/form.ts';
import type { ChallengeMode } from '../factors/second-factor.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import type { SecondStep } from '../login/second-step.ts';
import { pendingOf, type InteractionCtx } from './load-interaction.ts';
import type { ApplicationsRepo } from '../db/repositories/applications.ts';
import type { ApiScope } from '../api/scopes.ts';
import { OAUTH_API_SCOPES } from '../oidc/resource-indicators.ts';

/** The scopes the consent page names (in words: consent.scope.*); openid is always named first. */
const CONSENT_SCOPES = ['email', 'profile', 'organizations'];

/** The API scopes (in words: apiScopes.*) the request asks for the REST API: those oidc-provider
 *  kept for a resource (oidc/resource-indicators.ts), as the grant will record them. A request
 *  that names no resource asks none, whatever its scope says. */
function apiScopesAsked(interaction: InteractionCtx['state']['interaction']): ApiScope[] {
  const resource = interaction.params.resource;
  if (!resource || (Array.isArray(resource) && !resource.length)) return [];
  return String(interaction.params.scope ?? '')
    .split(' ')
    .filter((s): s is ApiScope => OAUTH_API_SCOPES.includes(s as ApiScope));
}

export function loginPage(ctx: InteractionCtx, form?: FormState, status = 200) {
  const { interaction, app } = ctx.state;
  const values = { email: String(form?.values.email ?? interaction.params.login_hint ?? '') };
  renderPage(ctx, 'login', { uid: interaction.uid, app, ...formData(form), values }, status);
}

/** The host a redirect URI sends the browser to (a custom scheme has none: then nothing is shown). */
function hostOf(uri: unknown): string | undefined {
  try {
    return typeof uri === 'string' ? new URL(uri).host || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** The consent page: who is signed in (with "Not you?"), what the application asks, the host the
 *  browser goes to next, and a warning when an ordinary user registered the application (its name is
 *  theirs to choose, so it proves nothing). */
export function createConsentPage(deps: { applications: ApplicationsRepo }) {
  return async function consentPage(ctx: InteractionCtx) {
    const { interaction, app, who } = ctx.state;
    const scopes = String(interaction.params.scope ?? '')
      .split(' ')
      .filter((s) => CONSENT_SCOPES.includes(s));
    const registered = await deps.applications.findByClientId(String(interaction.params.client_id));
    renderPage(ctx, 'consent', {
      uid: interaction.uid,
      app,
      scopes,
      apiScopes: apiScopesAsked(interaction),
      email: who?.email,
      host: hostOf(interaction.params.redirect_uri),
      userApp: !!registered?.ownerId,
    });
  };
}
export type ConsentPage = ReturnType<typeof createConsentPage>;

/** The second-factor page: the chosen (or default) method, its challenge, and every other way. A
 *  challenge that cannot be prepared (SMS limits, gateway down) says so on the page. */
export function createSecondFactorPage(secondStep: SecondStep) {
  return async function secondFactorPage(
    ctx: InteractionCtx,
    opts: { error?: ErrorCode; mode?: ChallengeMode } = {},
    status = 200,
  ) {
    const { interaction, app } = ctx.state;
    const login = pendingOf(ctx);
    const choices = ctx.state.choices ?? (await secondStep.choices(login.accountId));
    const current = ctx.state.choice ?? choices[0];
    if (!current) throw new AppError('session_expired');
    const mode = opts.mode ?? (opts.error ? 'retry' : 'open');
    const challengeCtx = { locale: ctx.state.locale, ip: ctx.ip, mode, app, userAgent: ctx.get('User-Agent') };
    const prepared = await secondStep.challenge(interaction.uid, login, current, challengeCtx);
    let error: ErrorCode | undefined = opts.error;
    let challenge: Record<string, unknown> = {};
    if (prepared.ok) challenge = prepared.view;
    else {
      error = prepared.reason === 'rate_limited' ? 'rate_limited' : 'sms_unavailable';
      if (status < 400) status = new AppError(error).status;
    }
    renderPage(ctx, 'second-factor', { uid: interaction.uid, app, choices, current, challenge, error }, status);
  };
}
export type SecondFactorPage = ReturnType<typeof createSecondFactorPage>;
