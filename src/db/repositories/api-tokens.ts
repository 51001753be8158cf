// Personal API tokens (src/api/personal-tokens.ts): rows keyed by the token's HMAC.
import { and, asc, desc, eq, inArray, isNull, lte, or, gt, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { accounts, apiTokens, type Account, type ApiTokenRow } from '../schema.ts';

export type { ApiTokenRow };

export interface NewApiToken {
  id: string;
  accountId: string;
  name: string;
  tokenHash: string;
  scopes: string[];
  expiresAt: Date | null;
  createdAt: Date;
}

/** A token the idle sweep acted on, with what its owner's email needs. */
export interface IdleTokenRow {
  token: ApiTokenRow;
  owner: {
    email: string;
    emailVerified: boolean;
    givenName: string | null;
    name: string;
    locale: string;
    zoneinfo: string;
  };
}

/** The moment a token was last in use (its creation when never used). */
const lastActivity = sql`coalesce(${apiTokens.lastUsedAt}, ${apiTokens.createdAt})`;

export function createApiTokensRepo(db: Db) {
  /** Marks up to `limit` tokens matching `where` (claimed with SKIP LOCKED, so two nodes never act on
   *  the same row) and returns them with their owner. */
  async function claim(where: ReturnType<typeof and>, set: Partial<ApiTokenRow>, limit: number) {
    const ids = db
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(where)
      .orderBy(asc(apiTokens.createdAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await db
      .update(apiTokens)
      .set(set)
      .where(and(inArray(apiTokens.id, ids), where))
      .returning();
    if (!rows.length) return [];
    const owners = await db
      .select({
        id: accounts.id,
        email: accounts.email,
        emailVerified: accounts.emailVerified,
        givenName: accounts.givenName,
        name: accounts.name,
        locale: accounts.locale,
        zoneinfo: accounts.zoneinfo,
      })
      .from(accounts)
      .where(inArray(accounts.id, [...new Set(rows.map((r) => r.accountId))]));
    const byId = new Map(owners.map((o) => [o.id, o]));
    return rows.flatMap((token): IdleTokenRow[] => {
      const owner = byId.get(token.accountId);
      return owner ? [{ token, owner }] : [];
    });
  }
  /** Not deactivated and not expired at `now`. */
  const live = (now: Date) =>
    and(isNull(apiTokens.deactivatedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)));

  return {
    async insert(row: NewApiToken): Promise<ApiTokenRow> {
      const [created] = await db.insert(apiTokens).values(row).returning();
      if (!created) throw new Error('api token not inserted');
      return created;
    },
    /** The token with this HMAC and its account, in one round trip (every API call with a
     *  personal token asks this), whatever the token's state (the caller checks it). */
    async findByHashWithAccount(tokenHash: string): Promise<{ token: ApiTokenRow; account: Account } | undefined> {
      const [row] = await db
        .select({ token: apiTokens, account: accounts })
        .from(apiTokens)
        .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
        .where(eq(apiTokens.tokenHash, tokenHash))
        .limit(1);
      return row;
    },
    /** An account's tokens, newest first (a page of them when `page` is given). */
    async listByAccount(accountId: string, page?: { limit: number; offset: number }): Promise<ApiTokenRow[]> {
      const q = db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.accountId, accountId))
        .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
      return page ? q.limit(page.limit).offset(page.offset) : q;
    },
    async countByAccount(accountId: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(apiTokens)
        .where(eq(apiTokens.accountId, accountId));
      return row?.n ?? 0;
    },
    /** Deletes those of `ids` that are this account's; returns the rows deleted (another account's
     *  id deletes nothing). */
    async deleteOwn(accountId: string, ids: readonly string[]): Promise<ApiTokenRow[]> {
      if (!ids.length) return [];
      return db
        .delete(apiTokens)
        .where(and(eq(apiTokens.accountId, accountId), inArray(apiTokens.id, [...ids])))
        .returning();
    },
    async deleteAll(accountId: string): Promise<ApiTokenRow[]> {
      return db.delete(apiTokens).where(eq(apiTokens.accountId, accountId)).returning();
    },
    /** Records a use (throttled by the caller: not every request writes). A use ends an idle
     *  stretch: the "about to be deactivated" warning may be sent again a year later. */
    async touch(id: string, at: Date, ip: string): Promise<void> {
      await db
        .update(apiTokens)
        .set({ lastUsedAt: at, lastUsedIp: ip, idleWarnedAt: null })
        .where(eq(apiTokens.id, id));
    },
    /** One batch of live tokens last used at or before `idleSince`, not warned yet: marked warned. */
    async claimToWarn(idleSince: Date, now: Date, limit: number): Promise<IdleTokenRow[]> {
      const where = and(live(now), isNull(apiTokens.idleWarnedAt), lte(lastActivity, idleSince));
      return claim(where, { idleWarnedAt: now }, limit);
    },
    /** One batch of live tokens last used at or before `idleSince`: deactivated. */
    async claimToDeactivate(idleSince: Date, now: Date, limit: number): Promise<IdleTokenRow[]> {
      return claim(and(live(now), lte(lastActivity, idleSince)), { deactivatedAt: now }, limit);
    },
  };
}
export type ApiTokensRepo = ReturnType<typeof createApiTokensRepo>;
