// CSRF protection for every form: a signed double-submit token. A random value lives in an
// HttpOnly SameSite=Lax cookie; forms carry HMAC(key, value). An attacker's page can neither read
// the cookie nor compute the HMAC.
import type { Next } from 'koa';
import { hmac, randomToken, constantTimeEqual } from '../lib/crypto.ts';
import { AppError } from '../errors.ts';
import type { Ctx } from './context.ts';

export const CSRF_COOKIE = 'sesame.csrf';
export const CSRF_FIELD = '_csrf';

export function createCsrf(key: Buffer) {
  const tokenFor = (value: string) => hmac(key, `csrf:${value}`);
  function verify(ctx: Ctx, submitted: unknown) {
    const value = ctx.cookies.get(CSRF_COOKIE);
    if (!value || typeof submitted !== 'string' || !constantTimeEqual(tokenFor(value), submitted)) {
      throw new AppError('csrf_failed');
    }
  }
  return {
    /** Ensures the cookie exists and exposes the form token as ctx.state.csrfToken. */
    async middleware(ctx: Ctx, next: Next) {
      let value = ctx.cookies.get(CSRF_COOKIE);
      if (!value || !/^[\w-]{43}$/.test(value)) {
        value = randomToken(32);
        ctx.cookies.set(CSRF_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true });
      }
      ctx.state.csrfToken = tokenFor(value);
      await next();
    },
    /** Router middleware: every state-changing request must carry the form token (checked first,
     *  before sudo mode or anything else). Needs the body parsed. */
    async forChanges(ctx: Ctx, next: Next) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') verify(ctx, (ctx.request.body as Record<string, unknown> | undefined)?._csrf);
      await next();
    },
    verify,
  };
}
export type Csrf = ReturnType<typeof createCsrf>;
