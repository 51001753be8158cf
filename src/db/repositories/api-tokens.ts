// Personal API tokens (src/api/personal-tokens.ts): rows keyed by the token's HMAC.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { apiTokens, type ApiTokenRow } from '../schema.ts';

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

export function createApiTokensRepo(db: Db) {
  return {
    async insert(row: NewApiToken): Promise<ApiTokenRow> {
      const [created] = await db.insert(apiTokens).values(row).returning();
      if (!created) throw new Error('api token not inserted');
      return created;
    },
    /** The token with this HMAC, whatever its state (the caller checks expiry and deactivation). */
    async findByHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).limit(1);
      return row;
    },
    /** Records a use (throttled by the caller: not every request writes). A use ends an idle
     *  stretch: the "about to be deactivated" warning may be sent again a year later. */
    async touch(id: string, at: Date, ip: string): Promise<void> {
      await db
        .update(apiTokens)
        .set({ lastUsedAt: at, lastUsedIp: ip, idleWarnedAt: null })
        .where(eq(apiTokens.id, id));
    },
  };
}
export type ApiTokensRepo = ReturnType<typeof createApiTokensRepo>;
