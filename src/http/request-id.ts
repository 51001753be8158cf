// Every request gets an id: returned in `X-Request-Id`, and part of every log line written while the
// request runs (lib/logger.ts reads it from the AsyncLocalStorage below), so that "request id 4f0c…"
// from a user's error page or a proxy's access log finds the node's lines at once. Behind a trusted
// proxy (TRUST_PROXY=true) the proxy's own `X-Request-Id` is kept when it is a plain token, so one id
// follows the request through both; otherwise (or when malformed) a new one is made.
import crypto from 'node:crypto';
import type { Context, Next } from 'koa';
import { requestContext } from '../lib/logger.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{8,128}$/;

export function createRequestId(opts: { trustProxy: boolean }) {
  return function requestId(ctx: Context, next: Next) {
    const offered = opts.trustProxy ? ctx.get(REQUEST_ID_HEADER) : '';
    const id = ACCEPTED.test(offered) ? offered : crypto.randomUUID();
    ctx.state.requestId = id;
    ctx.set(REQUEST_ID_HEADER, id);
    return requestContext.run({ requestId: id }, next);
  };
}
