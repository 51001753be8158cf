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
import { resolveLocale, isLocale } from '../http/i18n.ts';
import type { LoginAttempt } from './login-attempt.ts';
import type { Finisher } from './finish.ts';
import type { SecondStep, PendingLogin } from './second-step.ts';
import type { MethodChoice, ChallengeMode } from '../factors/second-factor.ts';
import { requestInfo, type RequestInfo } from '../http/request-info.ts';

const LoginForm = z.object({ email: emailField, password: z.string().min(1).max(1024) });
const SecondFactorForm = z.object({
  method: z.enum(['totp', 'webauthn', 'sms', 'backup_code', 'push']),
  factor: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
  credential: z.string().max(65_536).optional(),
});

export interface InteractionDeps {
  provider: Provider;
  csrf: Csrf;
  loginAttempt: LoginAttempt;
  secondStep: SecondStep;
  finish: Finisher;
  /** The account's own language, which wins over ui_locales once the password step knows who it is. */
  accountLocale(accountId: string): Promise<string | undefined>;
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
  /** Who is signing in to what: for the activity log, lockout emails and alerts. */
  async function infoFor(ctx: Ctx, details: Details): Promise<RequestInfo> {
    return requestInfo(ctx, { clientId: String(details.params.client_id), application: await clientName(details) });
  }

  function renderLogin(ctx: Ctx, details: Details, app: string, extra: Record<string, unknown> = {}, status = 200) {
    renderPage(ctx, 'login', { uid: details.uid, app, values: { email: details.params.login_hint ?? '' }, ...extra }, status);
  }

  /** The second-factor page: the chosen (or default) method, its challenge, and every other way.
   *  `choices` are the account's, already loaded by the caller. */
  async function renderSecondFactor(ctx: Ctx, details: Details, login: PendingLogin, choices: MethodChoice[], choice: MethodChoice | undefined, extra: { error?: string; mode?: ChallengeMode } = {}, status = 200) {
    const app = await clientName(details);
    const current = choice ?? choices[0];
    if (!current) return renderPage(ctx, 'expired', {}, 400);
    let challenge: Record<string, unknown> = {};
    let error = extra.error;
    const prepared = await secondStep.challenge(details.uid, login, current, { locale: ctx.state.locale, ip: ctx.ip, mode: extra.mode ?? (extra.error ? 'retry' : 'open'), app, userAgent: ctx.get('User-Agent') });
    if (prepared.ok) challenge = prepared.view;
    else {
      error = prepared.reason === 'rate_limited' ? 'rate_limited' : 'sms_unavailable';
      if (status < 400) status = prepared.reason === 'rate_limited' ? 429 : 503;
    }
    renderPage(ctx, 'second-factor', { uid: details.uid, app, choices, current, challenge, error }, status);
  }

  const { secondStep, finish } = deps;

  /** The login waiting for its second factor in this interaction, with the page in the user's language. */
  async function pendingLogin(ctx: Ctx, details: Details): Promise<PendingLogin | undefined> {
    const login = details.prompt.name === 'login' ? await secondStep.pending(details.uid) : undefined;
    if (login) {
      const locale = await deps.accountLocale(login.accountId);
      if (isLocale(locale)) setLocale(ctx, locale);
    }
    return login;
  }

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    const app = await clientName(details);
    if (details.prompt.name === 'login') {
      const login = await pendingLogin(ctx, details);
      if (login) {
        const choices = await secondStep.choices(login.accountId);
        const method = typeof ctx.query.method === 'string' ? ctx.query.method : undefined;
        const factor = typeof ctx.query.factor === 'string' ? ctx.query.factor : undefined;
        return renderSecondFactor(ctx, details, login, choices, secondStep.pick(choices, method, factor));
      }
      return renderLogin(ctx, details, app);
    }
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
    const info = await infoFor(ctx, details);
    const outcome = await deps.loginAttempt(form.data.email, form.data.password, info);
    if (!outcome.ok) {
      return renderLogin(ctx, details, app, { values: { email: form.data.email }, error: outcome.reason }, outcome.reason === 'rate_limited' ? 429 : 401);
    }
    const done = await finish.login(ctx, details.params, { accountId: outcome.accountId, amr: ['pwd'] }, info);
    if (done === 'second_factor_required') {
      // Password done; the login waits for its second factor. 303 to the same page, which now asks for it.
      await secondStep.start(details.uid, { accountId: outcome.accountId, amr: ['pwd'] });
      ctx.status = 303;
      ctx.redirect(`/interaction/${details.uid}`);
    }
  });

  /** What both second-step POSTs start with: this browser's interaction, its CSRF token, the login
   *  waiting for its second factor, and a method the account really has. */
  async function secondStepForm(ctx: Ctx) {
    const details = await load(ctx);
    if (!details) return undefined;
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>)?._csrf);
    const login = await pendingLogin(ctx, details);
    // No password step behind this interaction: nothing to continue.
    if (!login) return void renderPage(ctx, 'expired', {}, 400);
    const form = parseForm(SecondFactorForm, ctx.request.body);
    const choices = await secondStep.choices(login.accountId);
    const choice = form.ok ? secondStep.pick(choices, form.data.method, form.data.factor) : undefined;
    if (!form.ok || !choice) return void await renderSecondFactor(ctx, details, login, choices, undefined, { error: 'invalid_code' }, 400);
    return { details, login, choices, choice, answer: { code: form.data.code, credential: form.data.credential } };
  }

  /** The answer to the second factor: a code (field `code`) or a WebAuthn assertion (`credential`). */
  router.post('/second-factor', async (ctx) => {
    const step = await secondStepForm(ctx);
    if (!step) return;
    const { details, login, choices, choice } = step;
    const info = await infoFor(ctx, details);
    const outcome = await secondStep.verify(details.uid, login, choice, step.answer, { locale: ctx.state.locale, ...info });
    if (!outcome.ok) {
      if (outcome.reason === 'session_expired') return renderPage(ctx, 'expired', {}, 400);
      return renderSecondFactor(ctx, details, login, choices, choice, { error: outcome.reason }, outcome.reason === 'rate_limited' ? 429 : 401);
    }
    // The amr now holds a second factor: this finishes (the one check lives in finish.ts).
    await finish.login(ctx, details.params, { accountId: outcome.accountId, amr: outcome.amr }, info);
  });

  /** Where a push approval stands, for the waiting page's script (JSON). */
  router.get('/second-factor/status', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    let details: Details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      ctx.body = { status: 'expired' };
      return;
    }
    const login = details.uid === ctx.params.uid && details.prompt.name === 'login' ? await secondStep.pending(details.uid) : undefined;
    if (!login) { ctx.body = { status: 'expired' }; return; }
    // Polled every second: only the store is read (the challenge is bound to this interaction).
    ctx.body = { status: await secondStep.poll(details.uid, login, String(ctx.query.method ?? '')) };
  });

  /** "Send a new code" (SMS), "Send a new request" (push). */
  router.post('/second-factor/resend', async (ctx) => {
    const step = await secondStepForm(ctx);
    if (step) await renderSecondFactor(ctx, step.details, step.login, step.choices, step.choice, { mode: 'resend' });
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
    await finish.consent(ctx, grantId);
  });

  router.post('/abort', async (ctx) => {
    const details = await load(ctx);
    if (!details) return;
    csrf.verify(ctx, (ctx.request.body as Record<string, unknown>)?._csrf);
    await finish.error(ctx, 'access_denied', 'End-User aborted interaction');
  });

  return router;
}
