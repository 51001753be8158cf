// Personal API tokens: created by their owner (the Security page, or POST /1/tokens), shown once,
// checked on every API call by one indexed lookup of their HMAC. A use is recorded (time, IP) at
// most once a minute per token and node, after the answer: an API call costs no write on its way
// (the throttle is in this process's memory, not a store round trip).
import crypto from 'node:crypto';
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
/** How often a token's last use is written down at most (per node). */
const TOUCH_EVERY_MS = 60_000;
/** The throttle forgets everything past this many tokens (memory stays bounded; a token forgotten
 *  early is written down once more, no harm). */
const TOUCH_MEMORY = 10_000;

export interface NewTokenInput {
  name: string;
  scopes: readonly ApiScope[];
  expiresAt: Date | null;
}

export interface PersonalTokensDeps {
  config: { hashKey: Buffer };
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
  const { repo, clock, logger } = deps;
  const hash = (token: string) => hashApiToken(deps.config.hashKey, token);
  const lastWritten = new Map<string, number>();

  /** Written after the answer; a failure loses one last-use time, never the request. */
  function noteUse(row: ApiTokenRow, ip: string) {
    const now = clock.now();
    const written = Math.max(lastWritten.get(row.id) ?? 0, row.lastUsedAt?.getTime() ?? 0);
    if (now - written < TOUCH_EVERY_MS && row.lastUsedIp === ip) return;
    if (lastWritten.size >= TOUCH_MEMORY) lastWritten.clear();
    lastWritten.set(row.id, now);
    setImmediate(() => {
      repo
        .touch(row.id, new Date(now), ip)
        .catch((err: unknown) => logger.warn({ err, tokenId: row.id }, 'api token last use not recorded'));
    });
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
