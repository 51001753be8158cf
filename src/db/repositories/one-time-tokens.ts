import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { oneTimeTokens } from '../schema.ts';

/** The link with this hash and purpose, if still open: not spent, not expired. */
const openLink = (tokenHash: string, purpose: string, now: Date) =>
  and(
    eq(oneTimeTokens.tokenHash, tokenHash),
    eq(oneTimeTokens.purpose, purpose),
    isNull(oneTimeTokens.consumedAt),
    gt(oneTimeTokens.expiresAt, now),
  );

export function createOneTimeTokensRepo(db: Db) {
  return {
    async create(input: {
      tokenHash: string;
      purpose: string;
      accountId: string;
      data?: Record<string, unknown>;
      expiresAt: Date;
    }) {
      await db.insert(oneTimeTokens).values({ ...input, data: input.data ?? {} });
    },
    /** Looks without spending (a page that asks for more before the link is used). */
    async peek(tokenHash: string, purpose: string, now = new Date()) {
      const [row] = await db
        .select({ accountId: oneTimeTokens.accountId, data: oneTimeTokens.data })
        .from(oneTimeTokens)
        .where(openLink(tokenHash, purpose, now))
        .limit(1);
      return row;
    },
    /** Voids every open link of the account of this purpose (a newer one replaces them), or of any
     *  purpose when none is given. */
    async voidAll(accountId: string, purpose?: string, now = new Date()) {
      await db
        .update(oneTimeTokens)
        .set({ consumedAt: now })
        .where(
          and(
            eq(oneTimeTokens.accountId, accountId),
            purpose === undefined ? undefined : eq(oneTimeTokens.purpose, purpose),
            isNull(oneTimeTokens.consumedAt),
          ),
        );
    },
    /** Single-use in one atomic write: only the first caller gets the row back. */
    async consume(tokenHash: string, purpose: string, now = new Date()) {
      const rows = await db
        .update(oneTimeTokens)
        .set({ consumedAt: now })
        .where(openLink(tokenHash, purpose, now))
        .returning({ accountId: oneTimeTokens.accountId, data: oneTimeTokens.data });
      return rows[0];
    },
    async deleteExpired(batch: number, now = new Date()): Promise<number> {
      const rows = await db
        .delete(oneTimeTokens)
        .where(
          sql`${oneTimeTokens.tokenHash} IN (SELECT token_hash FROM one_time_tokens WHERE expires_at < ${now} LIMIT ${batch})`,
        )
        .returning({ h: oneTimeTokens.tokenHash });
      return rows.length;
    },
  };
}
export type OneTimeTokensRepo = ReturnType<typeof createOneTimeTokensRepo>;
