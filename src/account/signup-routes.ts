// Sign-up and email verification. Sign-up answers the same whether or not the email is taken; the
// mailbox owner is told by email instead (no account enumeration).
import Router from '@koa/router';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { form, formData, emailField, nameField, type FormState } from '../http/form.ts';
import { assertPasswordAllowed, type PasswordFactor } from '../factors/password.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import type { EmailVerification } from './email-verification.ts';
import { safeReturnPath } from '../http/return-path.ts';
import { AppError } from '../errors.ts';
import { newPasswordField, passwordField } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';

const SignupForm = z.object({
  given_name: nameField,
  family_name: nameField,
  email: emailField,
  password: newPasswordField,
  return: z.string().optional(),
});
const VerifyForm = z.object({
  token: z.string().max(200).default(''),
  password: passwordField,
  return: z.string().optional(),
});

export interface SignupDeps {
  config: Config;
  repos: { accounts: AccountsRepo };
  password: PasswordFactor;
  verification: EmailVerification;
  limiter: RateLimiter;
}

export function createSignupRouter(deps: SignupDeps) {
  const { password, verification, limiter, config } = deps;
  const accounts = deps.repos.accounts;
  const router = new Router<SesameState>();

  const signupPage = (ctx: Ctx, f?: FormState, status = 200) => {
    const returnTo = safeReturnPath(f ? f.values.return : ctx.query.return);
    renderPage(ctx, 'signup', { returnTo, ...formData(f) }, status);
  };

  async function signup(ctx: Ctx, input: z.output<typeof SignupForm>) {
    const { email, given_name, family_name } = input;
    const returnTo = safeReturnPath(input.return);
    assertPasswordAllowed(input.password, { email, givenName: given_name, familyName: family_name });
    if (!(await limiter.hit('signup-ip', ctx.ip, config.rateLimits.signupPerIp, MESSAGE_WINDOW_SECONDS)))
      throw new AppError('rate_limited');
    // Hash first in both branches so the response time does not depend on the email being taken.
    const passwordHash = await password.hash(input.password);
    const name = `${given_name} ${family_name}`;
    const created = await accounts.create({
      email,
      passwordHash,
      name,
      givenName: given_name,
      familyName: family_name,
      locale: ctx.state.locale,
    });
    if (created) await verification.send(created, returnTo);
    else {
      const existing = await accounts.findByEmail(email);
      if (existing) await verification.sendExistingNotice(existing);
    }
    renderPage(ctx, 'signup-done', { email, returnTo });
  }

  const verifyPage = (ctx: Ctx, f: FormState, status: number) => {
    const token = String(f.values.token ?? '');
    renderPage(ctx, 'verify-email', { token, returnTo: safeReturnPath(f.values.return), ...formData(f) }, status);
  };

  async function verify(ctx: Ctx, input: z.output<typeof VerifyForm>) {
    await verification.verify(input.token, input.password, requestInfo(ctx));
    renderPage(ctx, 'verified', { returnTo: safeReturnPath(input.return) });
  }

  router.get('/signup', (ctx) => signupPage(ctx));
  router.post('/signup', form(SignupForm, signup, signupPage));
  // GET only shows the form: mail scanners that prefetch links must not consume the token.
  router.get('/verify-email', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    if (!(await verification.isOpen(token))) throw new AppError('link_invalid');
    renderPage(ctx, 'verify-email', { token, returnTo: safeReturnPath(ctx.query.return) });
  });
  router.post('/verify-email', form(VerifyForm, verify, verifyPage, { limit: '8kb' }));
  return router;
}
