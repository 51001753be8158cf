// Personal API tokens: created by their owner (the Security page, or POST /1/tokens), shown once,
// checked on every API call by one indexed lookup of their HMAC. A use is recorded (time, IP) at
// most once a minute per token, after the answer: an API call costs no database write on its way.
import crypto from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ApiTokensRepo, ApiTokenRow } from '../db/repositories/api-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { hashApiToken, looksLikeApiToken, newApiToken } from './token-format.ts';
import type { ApiScope } from './scopes.ts';

/** A token unused this long is deactivated (product.md: "unused for a year"). */
export const IDLE_DAYS = 365;
const DAY_MS = 24 * 3600 * 1000;
/** How often a token's last use is written down at most. */
const TOUCH_EVERY_SECONDS = 60;

export interface NewTokenInput {
  name: string;
  scopes: readonly ApiScope[];
  expiresAt: Date | null;
}

export interface PersonalTokensDeps {
  config: { hashKey: Buffer };
  store: Store;
  clock: Clock;
  logger: Logger;
  repo: ApiTokensRepo;
  activity: ActivityRepo;
}

/** The moment a token stops working for lack of use. */
export function idleUntil(row: Pick<ApiTokenRow, 'lastUsedAt' | 'createdAt'>): Date {
  return new Date((row.lastUsedAt ?? row.createdAt).getTime() + IDLE_DAYS * DAY_MS);
}

/** Whether a token may be used at `now`: not deactivated, not expired, not idle for a year. */
export function isUsable(row: ApiTokenRow, now: number): boolean {
  if (row.deactivatedAt) return false;
  if (row.expiresAt && row.expiresAt.getTime() <= now) return false;
  return idleUntil(row).getTime() > now;
}

export function createPersonalTokens(deps: PersonalTokensDeps) {
  const { repo, store, clock, logger } = deps;
  const hash = (token: string) => hashApiToken(deps.config.hashKey, token);

  /** Written after the answer; a failure loses one last-use time, never the request. */
  function noteUse(row: ApiTokenRow, ip: string) {
    void (async () => {
      if (!(await store.setIfAbsent(`api-token-used:${row.id}`, '1', TOUCH_EVERY_SECONDS))) return;
      await repo.touch(row.id, new Date(clock.now()), ip);
    })().catch((err: unknown) => logger.warn({ err, tokenId: row.id }, 'api token last use not recorded'));
  }

  return {
    hash,
    /** Creates a token; the only time its value exists outside the caller is this return. */
    async create(accountId: string, input: NewTokenInput, info: RequestInfo) {
      const token = newApiToken();
      const row = await repo.insert({
        id: crypto.randomUUID(),
        accountId,
        name: input.name,
        tokenHash: hash(token),
        scopes: [...input.scopes],
        expiresAt: input.expiresAt,
        createdAt: new Date(clock.now()),
      });
      await deps.activity.record({
        accountId,
        type: 'api_token_created',
        ip: info.ip,
        device: info.device,
        details: { name: row.name, scopes: row.scopes },
      });
      return { token, row };
    },
    /** The usable token this string is, or undefined (unknown, malformed, expired, deactivated, idle). */
    async authenticate(token: string, ip: string): Promise<ApiTokenRow | undefined> {
      if (!looksLikeApiToken(token)) return undefined;
      const row = await repo.findByHash(hash(token));
      if (!row || !isUsable(row, clock.now())) return undefined;
      noteUse(row, ip);
      return row;
    },
  };
}
export type PersonalTokens = ReturnType<typeof createPersonalTokens>;
