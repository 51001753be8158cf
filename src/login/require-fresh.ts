// Sensitive pages and actions: without a recent sign-in (or the password typed again), the browser
// is sent to confirm the password first, and comes back afterwards. Pages use the middleware; form
// actions wrap their handler, so that form() checks the CSRF token before anything else.
import type { Next } from 'koa';
import type { AccountCtx } from '../http/context.ts';
import { seeOther } from '../http/render.ts';
import type { Reauth } from './reauth.ts';

const CONFIRM_PASSWORD_PATH = '/account/security/confirm-password';

export function createRequireFresh(reauth: Reauth) {
  const confirmFirst = (ctx: AccountCtx, back: string) =>
    seeOther(ctx, `${CONFIRM_PASSWORD_PATH}?return=${encodeURIComponent(back)}`);
  return {
    /** For GET pages: they come back to themselves. */
    async page(ctx: AccountCtx, next: Next) {
      if (await reauth.isFresh(ctx)) return next();
      confirmFirst(ctx, ctx.path);
    },
    /** For form handlers: after confirming, back to `back` (the page the forms are on). */
    action(back: string) {
      return <C extends AccountCtx, T>(handler: (ctx: C, input: T) => unknown) =>
        async (ctx: C, input: T) => {
          if (await reauth.isFresh(ctx)) return handler(ctx, input);
          confirmFirst(ctx, back);
        };
    },
  };
}
export type RequireFresh = ReturnType<typeof createRequireFresh>;
