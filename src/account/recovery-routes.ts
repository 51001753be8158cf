// /forgot-password, /reset-password and /forgot-login: public pages, CSRF-protected, rate-limited,
// and the same answer whether or not an account matches.
import Router from '@koa/router';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { form, emailField, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { setAccountLocale } from '../http/locale.ts';
import { parseMobileOrThrow, SMS_COUNTRIES } from '../factors/sms.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import { AppError } from '../errors.ts';
import type { Recovery } from './recovery.ts';
import { newPasswordField } from '../http/form.ts';

const ForgotForm = z.object({ email: emailField });
const ResetForm = z.object({
  token: z.string().max(200),
  password: newPasswordField,
  password_again: z.string().max(MAX_PASSWORD_LENGTH),
});
const LoginForm = z.object({
  country: z.string().max(2).optional(),
  phone: z.string().trim().min(1).max(40),
  recovery_email: z.union([z.literal(''), emailField]).optional(),
});

export function createRecoveryRouter(deps: { recovery: Recovery }) {
  const { recovery } = deps;
  const router = new Router<SesameState>();
  const opts = { limit: '8kb' };

  const forgotPasswordPage = (ctx: Ctx, f: FormState, status: number) =>
    renderPage(ctx, 'forgot-password', { values: f.values, error: f.error }, status);
  /** The reset form again, in the language of the account the link is for (as when it opened). */
  async function resetPage(ctx: Ctx, f: FormState, status: number) {
    const account = await recovery.resetAccount(f.values.token ?? '');
    if (account) setAccountLocale(ctx, account);
    renderPage(ctx, 'reset-password', { token: f.values.token ?? '', error: f.error }, status);
  }
  const forgotLoginPage = (ctx: Ctx, f?: FormState, status = 200) =>
    renderPage(
      ctx,
      'forgot-login',
      { values: f?.values ?? { country: 'CH' }, countries: SMS_COUNTRIES, error: f?.error },
      status,
    );

  async function forgotPassword(ctx: Ctx, input: z.output<typeof ForgotForm>) {
    await recovery.requestReset(input.email, ctx.ip);
    renderPage(ctx, 'recovery-sent', { what: 'reset' });
  }
  async function reset(ctx: Ctx, input: z.output<typeof ResetForm>) {
    if (input.password !== input.password_again) throw new AppError('passwords_differ');
    await recovery.reset(input.token, input.password, requestInfo(ctx));
    renderPage(ctx, 'password-reset-done', {});
  }
  async function forgotLogin(ctx: Ctx, input: z.output<typeof LoginForm>) {
    const e164 = parseMobileOrThrow(input.phone, input.country);
    await recovery.forgotLogin(e164, input.recovery_email || undefined, ctx.ip);
    renderPage(ctx, 'recovery-sent', { what: 'login' });
  }

  router.get('/forgot-password', (ctx) => {
    renderPage(ctx, 'forgot-password', {
      values: { email: typeof ctx.query.email === 'string' ? ctx.query.email : '' },
    });
  });
  router.post('/forgot-password', form(ForgotForm, forgotPassword, forgotPasswordPage, opts));
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
  return router;
}
