// /forgot-password (a link by email, or a code by SMS to the recovery mobile), /reset-password,
// /forgot-login (by SMS or by email) and /unlock/request: public pages, CSRF-protected,
// rate-limited, and the same answer whether or not an account matches or has the option chosen.
import Router from '@koa/router';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { form, formData, emailField, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { setAccountLocale } from '../http/locale.ts';
import { parseMobileOrThrow, recoveryCountries } from '../factors/sms.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import { AppError } from '../errors.ts';
import type { Recovery } from './recovery.ts';
import { newPasswordField } from '../http/form.ts';

const ForgotForm = z.object({ email: emailField, method: z.enum(['email', 'sms']).default('email') });
const CodeForm = z.object({ flow: z.string().max(200), code: z.string().trim().min(1).max(20) });
const ResetForm = z.object({
  token: z.string().max(200),
  password: newPasswordField,
  password_again: z.string().max(MAX_PASSWORD_LENGTH),
});
const LoginForm = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('sms'),
    country: z.string().max(2).optional(),
    phone: z.string().trim().min(1).max(40),
  }),
  z.object({ method: z.literal('email'), recovery_email: emailField }),
]);
const UnlockRequestForm = z.object({ email: emailField });

export function createRecoveryRouter(deps: { recovery: Recovery }) {
  const { recovery } = deps;
  const router = new Router<SesameState>();
  const opts = { limit: '8kb' };

  /** A form's data, or on a first GET the address the link brought (?email=). */
  const firstOrAgain = (f: FormState | undefined, first: Record<string, string>) =>
    f ? formData(f) : { ...formData(), values: first };
  const queryEmail = (ctx: Ctx) => (typeof ctx.query.email === 'string' ? ctx.query.email : '');
  const forgotPasswordPage = (ctx: Ctx, f?: FormState, status = 200) =>
    renderPage(ctx, 'forgot-password', firstOrAgain(f, { email: queryEmail(ctx) }), status);
  const codePage = (ctx: Ctx, f: FormState, status: number) =>
    renderPage(ctx, 'forgot-password-code', { flow: f.values.flow ?? '', ...formData(f) }, status);
  /** The reset form again, in the language of the account the link is for (as when it opened). */
  async function resetPage(ctx: Ctx, f: FormState, status: number) {
    const account = await recovery.resetAccount(f.values.token ?? '');
    if (account) setAccountLocale(ctx, account);
    renderPage(ctx, 'reset-password', { ...formData(f), token: f.values.token ?? '' }, status);
  }
  const forgotLoginPage = (ctx: Ctx, f?: FormState, status = 200) =>
    renderPage(
      ctx,
      'forgot-login',
      {
        ...firstOrAgain(f, { country: 'CH' }),
        method: f?.values.method ?? '',
        countries: recoveryCountries(ctx.state.locale),
      },
      status,
    );
  const unlockRequestPage = (ctx: Ctx, f?: FormState, status = 200) =>
    renderPage(ctx, 'unlock-request', firstOrAgain(f, { email: queryEmail(ctx) }), status);

  async function forgotPassword(ctx: Ctx, input: z.output<typeof ForgotForm>) {
    if (input.method === 'email') {
      await recovery.requestReset(input.email, ctx.ip);
      renderPage(ctx, 'recovery-sent', { what: 'reset' });
      return;
    }
    const flow = await recovery.requestResetCode(input.email, ctx.ip);
    renderPage(ctx, 'forgot-password-code', { flow, email: input.email, ...formData() });
  }
  async function resetWithCode(ctx: Ctx, input: z.output<typeof CodeForm>) {
    const token = await recovery.resetTokenForCode(input.flow, input.code, ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/reset-password?token=${encodeURIComponent(token)}`);
  }
  async function reset(ctx: Ctx, input: z.output<typeof ResetForm>) {
    if (input.password !== input.password_again) throw new AppError('passwords_differ');
    const { appPasswordsRevoked } = await recovery.reset(input.token, input.password, requestInfo(ctx));
    renderPage(ctx, 'password-reset-done', { appPasswordsRevoked });
  }
  async function forgotLogin(ctx: Ctx, input: z.output<typeof LoginForm>) {
    if (input.method === 'sms') {
      const e164 = parseMobileOrThrow(input.phone, input.country, { anyCountry: true });
      await recovery.forgotLogin({ method: 'sms', e164 }, ctx.ip);
    } else {
      await recovery.forgotLogin({ method: 'email', recoveryEmail: input.recovery_email }, ctx.ip);
    }
    renderPage(ctx, 'recovery-sent', { what: input.method === 'sms' ? 'login' : 'loginEmail' });
  }
  async function unlockRequest(ctx: Ctx, input: z.output<typeof UnlockRequestForm>) {
    await recovery.requestUnlock(input.email, ctx.ip);
    renderPage(ctx, 'recovery-sent', { what: 'unlock' });
  }

  router.get('/forgot-password', (ctx) => forgotPasswordPage(ctx));
  router.post('/forgot-password', form(ForgotForm, forgotPassword, forgotPasswordPage, opts));
  router.post('/forgot-password/code', form(CodeForm, resetWithCode, codePage, opts));
  router.get('/reset-password', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const account = await recovery.resetAccount(token);
    if (!account) throw new AppError('link_invalid');
    setAccountLocale(ctx, account);
    renderPage(ctx, 'reset-password', { token });
  });
  router.post('/reset-password', form(ResetForm, reset, resetPage, opts));
  router.get('/forgot-login', (ctx) => forgotLoginPage(ctx));
  router.post('/forgot-login', form(LoginForm, forgotLogin, forgotLoginPage, opts));
  router.get('/unlock/request', (ctx) => unlockRequestPage(ctx));
  router.post('/unlock/request', form(UnlockRequestForm, unlockRequest, unlockRequestPage, opts));
  return router;
}
