// CSRF protection for every form: a signed double-submit token. A random value lives in an
// HttpOnly SameSite=Lax cookie; forms carry HMAC(key, value, session). An attacker's page can neither
// read the cookie nor compute the HMAC. The token is also bound to the signed-in session the browser
// presents (its uid, which survives oidc-provider's id rotation): cookie tossing — an attacker
// planting their own cookie and the token it calls for in the victim's browser — then fails as soon
// as the victim is signed in, since the attacker was never shown a token for the victim's session.
// (Interaction forms post to /interaction/<uid>, a capability the attacker does not know.)
// This middleware only hands the expected token to the page (ctx.state.csrfToken); form()
// (http/form.ts) is the one place that checks what comes back.
import type { Next } from 'koa';
import { hmac, randomToken, constantTimeEqual } from '../lib/crypto.ts';
import type { Ctx } from './context.ts';

const CSRF_COOKIE = 'sesame.csrf';
export const CSRF_FIELD = '_csrf';

/** The uid of the signed-in session the request presents, if any (oidc/session.ts). */
export type SessionUidOf = (ctx: Ctx) => Promise<string | undefined>;

export function createCsrf(key: Buffer, sessionUidOf: SessionUidOf) {
  const tokenFor = (value: string, session: string) => hmac(key, `csrf:${value}:${session}`);
  return async function csrfToken(ctx: Ctx, next: Next) {
    let value = ctx.cookies.get(CSRF_COOKIE);
    if (!value || !/^[\w-]{43}$/.test(value)) {
      value = randomToken(32);
      const cookie = { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true } as const;
      ctx.cookies.set(CSRF_COOKIE, value, cookie);
    }
    ctx.state.csrfToken = tokenFor(value, (await sessionUidOf(ctx)) ?? '');
    await next();
  };
}

/** True when the submitted token is the one this browser's cookie and session call for (constant
 *  time). A browser without the cookie got a fresh one on this request, whose token nobody could have sent. */
export function csrfTokenMatches(ctx: Ctx, submitted: unknown): boolean {
  return typeof submitted === 'string' && !!ctx.state.csrfToken && constantTimeEqual(ctx.state.csrfToken, submitted);
}
