// 60 calls a minute per token (per client IP for calls without a valid token), counted in the
// store so the limit holds across every node. Fixed windows aligned on the minute: the counter's
// key names its minute, so every node agrees on when a window resets without reading a TTL.
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
    // The counter outlives its window a little: a node whose clock runs behind still finds it.
    const count = await store.incr(`rl:api:${key}:${window}`, WINDOW_SECONDS + 5);
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
