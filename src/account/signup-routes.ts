// Sign-up and email verification. Sign-up answers the same whether or not the email is taken; the
// mailbox owner is told by email instead (no account enumeration).
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm, emailField, nameField } from '../http/forms.ts';
import { checkPasswordPolicy, MAX_PASSWORD_LENGTH, type PasswordFactor } from '../factors/password.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import type { EmailVerification } from './email-verification.ts';
import { safeReturnPath } from '../http/return-path.ts';

const SignupForm = z.object({
  given_name: nameField,
  family_name: nameField,
  email: emailField,
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  return: z.string().optional(),
});

export function createSignupRouter(deps: { config: Config; csrf: Csrf; accounts: AccountsRepo; password: PasswordFactor; verification: EmailVerification; limiter: RateLimiter }) {
  const { csrf, accounts, password, verification, limiter, config } = deps;
  const router = new Router<SesameState>();
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '64kb' }));

  const show = (ctx: Ctx, extra: Record<string, unknown> = {}, status = 200) =>
    renderPage(ctx, 'signup', { returnTo: safeReturnPath(ctx.query.return), ...extra }, status);

  router.get('/signup', (ctx) => show(ctx));

  router.post('/signup', async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    csrf.verify(ctx, body?._csrf);
    const returnTo = safeReturnPath(body?.return);
    const form = parseForm(SignupForm, body);
    if (!form.ok) return show(ctx, { values: form.values, returnTo, error: 'invalid_input', fields: form.fields }, 400);
    const { email, given_name, family_name } = form.data;
    const problem = checkPasswordPolicy(form.data.password, [email.split('@')[0]!, given_name, family_name]);
    if (problem) return show(ctx, { values: { ...form.data, password: '' }, returnTo, error: problem, fields: ['password'] }, 400);
    if (!(await limiter.hit('signup-ip', ctx.ip, config.rateLimits.signupPerIp, 3600))) {
      return show(ctx, { values: { ...form.data, password: '' }, returnTo, error: 'rate_limited' }, 429);
    }
    // Hash first in both branches so the response time does not depend on the email being taken.
    const passwordHash = await password.hash(form.data.password);
    const created = await accounts.create({
      email, passwordHash, name: `${given_name} ${family_name}`, givenName: given_name, familyName: family_name, locale: ctx.state.locale,
    });
    if (created) await verification.send(created, returnTo);
    else {
      const existing = await accounts.findByEmail(email);
      if (existing) await verification.sendExistingNotice(existing);
    }
    renderPage(ctx, 'signup-done', { email, returnTo });
  });

  // GET only shows a button: mail scanners that prefetch links must not consume the token.
  router.get('/verify-email', (ctx) => {
    renderPage(ctx, 'verify-email', { token: typeof ctx.query.token === 'string' ? ctx.query.token : '', returnTo: safeReturnPath(ctx.query.return) });
  });

  router.post('/verify-email', async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    csrf.verify(ctx, body?._csrf);
    const ok = await verification.verify(typeof body?.token === 'string' ? body.token : '');
    renderPage(ctx, ok ? 'verified' : 'link-invalid', { returnTo: safeReturnPath(body?.return) }, ok ? 200 : 400);
  });

  return router;
}
