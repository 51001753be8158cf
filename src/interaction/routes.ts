// /interaction/:uid — the pages oidc-provider sends the browser to: sign in, consent, abort.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { Ctx, SesameState } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm, emailField } from '../http/forms.ts';
import { setLocale } from '../http/locale.ts';
import { resolveLocale } from '../http/i18n.ts';
import type { LoginAttempt } from './login-attempt.ts';
import { finishLogin, finishConsent, finishWithError } from './finish.ts';

const LoginForm = z.object({ email: emailField, password: z.string().min(1).max(1024) });

export interface InteractionDeps {
  provider: Provider;
  csrf: Csrf;
  loginAttempt: LoginAttempt;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export function createInteractionRouter(deps: InteractionDeps) {
  const { provider, csrf } = deps;
  const router = new Router<SesameState>({ prefix: '/interaction/:uid' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '64kb' }));

  /** Loads the interaction for this browser and checks the URL's uid is its own. An expired or
   *  foreign interaction renders the "start again" page. */
  async function load(ctx: Ctx): Promise<Details | undefined> {
    let details: Details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) {
        renderPage(ctx, 'expired', {}, 400);
        return undefined;
      }
      throw err;
    }
    if (details.uid !== ctx.params.uid) {
      renderPage(ctx, 'expired', {}, 400);
      return undefined;
    }
    const ui = typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined;
    setLocale(ctx, resolveLocale({ uiLocales: ui, acceptLanguage: ctx.get('Accept-Language') }));
    return details;
  }

  async function clientName(details: Details): Promise<string> {
    const client = await provider.Client.find(String(details.params.client_id));
    return client?.clientName ?? String(details.params.client_id);
  }

  function renderLogin(ctx: Ctx, details: Details, app: string, extra: Record<string, unknown> = {}, status = 200) {
    renderPage(ctx, 'login', { uid: details.uid, app, values: { email: details.params.login_hint ?? '' }, ...extra }, status);
  }

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    const app = await clientName(details);
    if (details.prompt.name === 'login') return renderLogin(ctx, details, app);
    if (details.prompt.name === 'consent') {
      const scopes = String(details.params.scope ?? '').split(' ').filter((s) => ['email', 'profile'].includes(s));
      return renderPage(ctx, 'consent', { uid: details.uid, app, scopes });
    }
    renderPage(ctx, 'expired', {}, 400);
  });

  router.post('/login', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>)?._csrf);
    const app = await clientName(details);
    if (details.prompt.name !== 'login') return renderPage(ctx, 'expired', {}, 400);
    const form = parseForm(LoginForm, ctx.request.body);
    if (!form.ok) {
      return renderLogin(ctx, details, app, { values: { email: form.values.email ?? '' }, error: 'invalid_credentials' }, 400);
    }
    const outcome = await deps.loginAttempt(form.data.email, form.data.password, ctx.ip);
    if (!outcome.ok) {
      return renderLogin(ctx, details, app, { values: { email: form.data.email }, error: outcome.reason }, outcome.reason === 'rate_limited' ? 429 : 401);
    }
    await finishLogin(provider, ctx, { accountId: outcome.accountId, amr: ['pwd'] });
  });

  router.post('/confirm', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>)?._csrf);
    if (details.prompt.name !== 'consent' || !details.session?.accountId) return renderPage(ctx, 'expired', {}, 400);
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) return renderPage(ctx, 'expired', {}, 400);
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await finishConsent(provider, ctx, grantId);
  });

  router.post('/abort', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>)?._csrf);
    await finishWithError(provider, ctx, 'access_denied', 'End-User aborted interaction');
  });

  return router;
}
