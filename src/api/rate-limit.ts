// 60 calls a minute per token (per client IP for calls without a valid token), counted in the
// store so the limit holds across every node. A sliding window (the approximation Cloudflare and
// others use): this minute's count plus the previous minute's, weighted by how much of it still
// lies within the last 60 seconds — so 60 calls at :59 and 60 more at :01 are not 120 in two
// seconds. Windows are aligned on the minute and named in their key: every node agrees on them
// without reading a TTL.
// Every answer says where the caller stands (RateLimit-* headers, draft-ietf-httpapi-ratelimit-headers);
// over the limit, 429 with Retry-After.
import type { Ctx } from '../http/context.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import { AppError } from '../errors.ts';

const WINDOW_SECONDS = 60;

export function createApiRateLimit(deps: { store: Store; clock: Clock; perMinute: number }) {
  const { store, clock, perMinute } = deps;
  return async function limit(ctx: Ctx, key: string): Promise<void> {
    const nowSeconds = Math.floor(clock.now() / 1000);
    const window = Math.floor(nowSeconds / WINDOW_SECONDS);
    const reset = (window + 1) * WINDOW_SECONDS - nowSeconds;
    // A counter lives through the next window (it is the "previous" one there), and a little more
    // for a node whose clock runs behind.
    const [current, previous] = await Promise.all([
      store.incr(`rl:api:${key}:${window}`, 2 * WINDOW_SECONDS + 5),
      store.get(`rl:api:${key}:${window - 1}`),
    ]);
    const stillCounting = (WINDOW_SECONDS - (nowSeconds - window * WINDOW_SECONDS)) / WINDOW_SECONDS;
    const count = current + Math.floor(Number(previous ?? 0) * stillCounting);
    ctx.set('RateLimit-Limit', String(perMinute));
    ctx.set('RateLimit-Remaining', String(Math.max(0, perMinute - count)));
    ctx.set('RateLimit-Reset', String(reset));
    if (count > perMinute) {
      ctx.set('Retry-After', String(reset));
      throw new AppError('rate_limited');
    }
  };
}
export type ApiRateLimit = ReturnType<typeof createApiRateLimit>;
