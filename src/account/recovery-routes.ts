// /forgot-password, /reset-password and /forgot-login: public pages, CSRF-protected, rate-limited,
// and the same answer whether or not an account matches.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm, formValues, emailField } from '../http/forms.ts';
import { requestInfo } from '../http/request-info.ts';
import { setLocale } from '../http/locale.ts';
import { isLocale } from '../http/i18n.ts';
import { parseMobile, SMS_COUNTRIES } from '../factors/sms.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import type { Recovery } from './recovery.ts';

const ForgotForm = z.object({ email: emailField });
const ResetForm = z.object({ token: z.string().max(200), password: z.string().min(1).max(MAX_PASSWORD_LENGTH), password_again: z.string().max(MAX_PASSWORD_LENGTH) });
const LoginForm = z.object({ country: z.string().max(2).optional(), phone: z.string().trim().min(1).max(40), recovery_email: z.union([z.literal(''), emailField]).optional() });

export function createRecoveryRouter(deps: { csrf: Csrf; recovery: Recovery }) {
  const { csrf, recovery } = deps;
  const router = new Router<SesameState>();
  for (const p of ['/forgot-password', '/reset-password', '/forgot-login']) router.use(p, bodyParser({ enableTypes: ['form'], formLimit: '8kb' }));
  const posted = (ctx: Ctx) => {
    const v = formValues(ctx.request.body);
    csrf.verify(ctx, v._csrf);
    return v;
  };

  router.get('/forgot-password', (ctx) => renderPage(ctx, 'forgot-password', { values: { email: typeof ctx.query.email === 'string' ? ctx.query.email : '' } }));
  router.post('/forgot-password', async (ctx) => {
    const v = posted(ctx);
    const form = parseForm(ForgotForm, v);
    if (!form.ok) return renderPage(ctx, 'forgot-password', { values: v, error: 'invalid_input' }, 400);
    const r = await recovery.requestReset(form.data.email, ctx.ip);
    if (r === 'rate_limited') return renderPage(ctx, 'forgot-password', { values: v, error: 'rate_limited' }, 429);
    renderPage(ctx, 'recovery-sent', { what: 'reset' });
  });

  router.get('/reset-password', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const account = await recovery.resetAccount(token);
    if (!account) return renderPage(ctx, 'link-invalid', {}, 400);
    if (isLocale(account.locale)) setLocale(ctx, account.locale);
    renderPage(ctx, 'reset-password', { token });
  });
  router.post('/reset-password', async (ctx) => {
    const v = posted(ctx);
    const form = parseForm(ResetForm, v);
    const token = v.token ?? '';
    if (!form.ok) return renderPage(ctx, 'reset-password', { token, error: 'invalid_input' }, 400);
    if (form.data.password !== form.data.password_again) return renderPage(ctx, 'reset-password', { token, error: 'passwords_differ' }, 400);
    const r = await recovery.reset(token, form.data.password, requestInfo(ctx));
    if (r === 'link_invalid') return renderPage(ctx, 'link-invalid', {}, 400);
    if (r !== 'ok') return renderPage(ctx, 'reset-password', { token, error: r }, 400);
    renderPage(ctx, 'password-reset-done', {});
  });

  router.get('/forgot-login', (ctx) => renderPage(ctx, 'forgot-login', { values: { country: 'CH' }, countries: SMS_COUNTRIES }));
  router.post('/forgot-login', async (ctx) => {
    const v = posted(ctx);
    const form = parseForm(LoginForm, v);
    const again = (error: string, status: number) => renderPage(ctx, 'forgot-login', { values: v, countries: SMS_COUNTRIES, error }, status);
    if (!form.ok) return again('invalid_input', 400);
    const phone = parseMobile(form.data.phone, form.data.country);
    if (!phone.ok) return again(phone.error, 400);
    const r = await recovery.forgotLogin(phone.e164, form.data.recovery_email || undefined, ctx.ip);
    if (r === 'rate_limited') return again('rate_limited', 429);
    renderPage(ctx, 'recovery-sent', { what: 'login' });
  });
  return router;
}
