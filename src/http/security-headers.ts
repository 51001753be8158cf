import type { Next } from 'koa';
import type { Ctx } from './context.ts';

/** Headers for every response. Our own pages add a strict CSP in render.ts; oidc-provider's
 *  form_post pages set their own. */
export async function securityHeaders(ctx: Ctx, next: Next) {
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Our own pages learn where a request came from (an expired form's error page links back to it);
  // other sites never see our URLs, which may carry single-use links.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  await next();
}

/** No form-action directive: Chromium applies it to the redirect back to the relying party. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
