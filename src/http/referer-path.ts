// The page a request came from, when it is safe to know: only a Referer of our own origin (our
// Referrer-Policy, same-origin, sends none across sites), and only as a path on this site.
import type { Ctx } from './context.ts';

/** The Referer's path and query if it is our own origin, else the home page ("/"). A path that
 *  starts with two slashes would be another host to a browser, and is refused too. */
export function refererPath(ctx: Ctx): string {
  const referer = ctx.get('Referer');
  if (!referer) return '/';
  let url: URL;
  try {
    url = new URL(referer);
  } catch {
    return '/';
  }
  const path = url.pathname + url.search;
  // This request's own origin, as Koa sees it (X-Forwarded-Proto and -Host with TRUST_PROXY).
  const origin = `${ctx.protocol}://${ctx.host}`;
  return url.origin === origin && /^\/(?![/\\])/.test(path) ? path : '/';
}
