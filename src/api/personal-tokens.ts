// Personal API tokens: created by their owner (the Security page, or POST /1/tokens), shown once,
// checked on every API call by one indexed lookup of their HMAC. A use is recorded (time, IP) at
// most once a minute per token and node, after the answer: an API call costs no write on its way
// (the throttle is in this process's memory, not a store round trip).
import crypto from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ApiTokensRepo, ApiTokenRow } from '../db/repositories/api-tokens.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { hashApiToken, looksLikeApiToken, newApiToken } from './token-format.ts';
import type { ApiScope } from './scopes.ts';
import { AppError } from '../errors.ts';

/** A token unused this long is deactivated (product.md: "unused for a year"). */
export const IDLE_DAYS = 365;
const DAY_MS = 24 * 3600 * 1000;
/** A token's name: what its owner recognises it by in the list and in emails. */
export const TOKEN_NAME_MAX = 100;
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

/** What a token is at `now`, as its owner's list shows it. */
export type TokenState = 'active' | 'expired' | 'deactivated' | 'idle';
export function tokenState(row: ApiTokenRow, now: number): TokenState {
  if (row.deactivatedAt) return 'deactivated';
  if (row.expiresAt && row.expiresAt.getTime() <= now) return 'expired';
  return idleUntil(row).getTime() > now ? 'active' : 'idle';
}

/** Whether a token may be used at `now`: not deactivated, not expired, not idle for a year. */
export const isUsable = (row: ApiTokenRow, now: number): boolean => tokenState(row, now) === 'active';

/** Who revoked, for the activity log: the request's IP and device. */
type RevokedBy = Pick<RequestInfo, 'ip' | 'device'>;

export function createPersonalTokens(deps: PersonalTokensDeps) {
  const { repo, clock, logger } = deps;
  /** One activity entry per revoked token (details: its name), so the log says which went. */
  async function recordRevoked(accountId: string, rows: ApiTokenRow[], by: RevokedBy) {
    for (const row of rows)
      await deps.activity.record({
        accountId,
        type: 'api_token_revoked',
        ip: by.ip,
        device: by.device,
        details: { name: row.name },
      });
  }
  const hash = (token: string) => hashApiToken(deps.config.hashKey, token);
  const lastWritten = new Map<string, { at: number; ip: string | null }>();

  /** Written after the answer; a failure loses one last-use time, never the request. */
  function noteUse(row: ApiTokenRow, ip: string) {
    // Once a minute at most by the clock that decides idleness (tests move it), whatever the address:
    // a dual-stack client alternating between two addresses writes no more often.
    const now = clock.now();
    const last = lastWritten.get(row.id) ?? { at: row.lastUsedAt?.getTime() ?? 0, ip: row.lastUsedIp };
    if (now - last.at < TOUCH_EVERY_MS) return;
    if (lastWritten.size >= TOUCH_MEMORY) lastWritten.clear();
    lastWritten.set(row.id, { at: now, ip });
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
      // A token that would be born expired is a mistake worth saying, not a token.
      if (input.expiresAt && input.expiresAt.getTime() <= clock.now())
        throw new AppError('unprocessable', { fields: ['expires_at'], fieldErrors: { expires_at: 'date_past' } });
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
    /** An account's tokens, newest first (deactivated and expired ones too: their owner sees why
     *  they stopped working). */
    list: (accountId: string, page?: { limit: number; offset: number }) => repo.listByAccount(accountId, page),
    count: (accountId: string) => repo.countByAccount(accountId),
    /** Revokes those of `ids` that are this account's (deleted: authenticate finds them no more);
     *  an id of another account's token, or of none, is only reported back as not found. */
    async revoke(accountId: string, ids: readonly string[], by: RevokedBy) {
      const unique = [...new Set(ids)];
      const rows = await repo.deleteOwn(accountId, unique);
      await recordRevoked(accountId, rows, by);
      const gone = new Set(rows.map((r) => r.id));
      return { revoked: rows, notFound: unique.filter((id) => !gone.has(id)) };
    },
    /** Revokes every token of the account; returns those revoked. */
    async revokeAll(accountId: string, by: RevokedBy): Promise<ApiTokenRow[]> {
      const rows = await repo.deleteAll(accountId);
      await recordRevoked(accountId, rows, by);
      return rows;
    },
    /** The usable token this string is, with its account; undefined when unknown, malformed,
     *  expired, deactivated or idle. */
    async authenticate(token: string, ip: string): Promise<{ token: ApiTokenRow; account: Account } | undefined> {
      if (!looksLikeApiToken(token)) return undefined;
      const found = await repo.findByHashWithAccount(hash(token));
      if (!found || !isUsable(found.token, clock.now())) return undefined;
      noteUse(found.token, ip);
      return found;
    },
  };
}
export type PersonalTokens = ReturnType<typeof createPersonalTokens>;

/** The compromised-password flow's revoker (account/compromised-routes.ts): every token goes. */
export function revokeApiTokens(tokens: Pick<PersonalTokens, 'revokeAll'>) {
  return async (accountId: string, info: RequestInfo): Promise<number> =>
    (await tokens.revokeAll(accountId, info)).length;
}
