// Sensitive pages and actions: without a recent sign-in (or the password typed again), the browser
// is sent to confirm the password first, and comes back afterwards. Pages use the middleware; form
// actions wrap their handler, so that form() checks the CSRF token before anything else.
// A form submitted without a recent sign-in is not lost: what was typed (never a secret) is held for
// this session, and once the password is confirmed the same route runs again with it (replay) — the
// change is applied and the user sees its usual result.
import type { Next } from 'koa';
import type { AccountCtx } from '../http/context.ts';
import { seeOther } from '../http/render.ts';
import { keepableValues } from '../http/form.ts';
import { CSRF_FIELD } from '../http/csrf.ts';
import type { Reauth } from './reauth.ts';

export const CONFIRM_PASSWORD_PATH = '/account/security/confirm-password';

export function createRequireFresh(reauth: Reauth) {
  const confirmFirst = (ctx: AccountCtx, back: string, pending?: string) =>
    seeOther(ctx, `${CONFIRM_PASSWORD_PATH}?return=${encodeURIComponent(back)}${pending ? `&pending=${pending}` : ''}`);
  return {
    /** For GET pages: they come back to themselves. */
    async page(ctx: AccountCtx, next: Next) {
      if (await reauth.isFresh(ctx)) return next();
      confirmFirst(ctx, ctx.path);
    },
    /** For form handlers: the submission is held and applied after the password is confirmed; a
     *  form with a secret field (a new password) is not held, and the user comes back to `back`. */
    action(back: string) {
      return <C extends AccountCtx, T>(handler: (ctx: C, input: T) => unknown) =>
        async (ctx: C, input: T) => {
          if (await reauth.isFresh(ctx)) return handler(ctx, input);
          // form() has checked this submission's CSRF token and its input before we got here.
          const values = keepableValues(ctx.request.body);
          const pending = values ? await reauth.keepPending(ctx, { path: ctx.path, values }) : undefined;
          confirmFirst(ctx, back, pending);
        };
    },
    /** After the password is confirmed: the held submission goes through its route again
     *  (`dispatch`, the router it was made on, for paths under `within`) — the route's own checks,
     *  handler and answer. Its CSRF token was checked when it was held; this request's own, by the
     *  confirmation form. False when there is nothing (left) to apply. */
    async replay(
      ctx: AccountCtx,
      id: unknown,
      dispatch: (ctx: never, next: () => Promise<void>) => unknown,
      within: string,
    ): Promise<boolean> {
      const change = await reauth.takePending(ctx, id);
      if (!change || !change.path.startsWith(`${within}/`) || change.path === CONFIRM_PASSWORD_PATH) return false;
      ctx.method = 'POST';
      ctx.path = change.path;
      ctx.request.body = { ...change.values, [CSRF_FIELD]: ctx.state.csrfToken };
      ctx.state.rerender = undefined;
      await dispatch(ctx as never, async () => {});
      return true;
    },
  };
}
export type RequireFresh = ReturnType<typeof createRequireFresh>;
