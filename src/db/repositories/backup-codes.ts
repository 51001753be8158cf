// Backup codes, stored as HMACs. Using one is a single conditional UPDATE: of two parallel uses of
// one code exactly one gets the row back.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { backupCodes } from '../schema.ts';

export function createBackupCodesRepo(db: Db) {
  return {
    /** Replaces the whole set (regeneration invalidates every old code). */
    async replace(accountId: string, hashes: string[]) {
      await db.transaction(async (tx) => {
        await tx.delete(backupCodes).where(eq(backupCodes.accountId, accountId));
        await tx.insert(backupCodes).values(hashes.map((codeHash) => ({ accountId, codeHash })));
      });
    },
    async consume(accountId: string, codeHash: string, at = new Date()): Promise<boolean> {
      const rows = await db
        .update(backupCodes)
        .set({ usedAt: at })
        .where(
          and(eq(backupCodes.accountId, accountId), eq(backupCodes.codeHash, codeHash), isNull(backupCodes.usedAt)),
        )
        .returning({ h: backupCodes.codeHash });
      return rows.length === 1;
    },
    async remaining(accountId: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(backupCodes)
        .where(and(eq(backupCodes.accountId, accountId), isNull(backupCodes.usedAt)));
      return row?.n ?? 0;
    },
    async hasSet(accountId: string): Promise<boolean> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(backupCodes)
        .where(eq(backupCodes.accountId, accountId));
      return (row?.n ?? 0) > 0;
    },
    async deleteAll(accountId: string) {
      await db.delete(backupCodes).where(eq(backupCodes.accountId, accountId));
    },
  };
}
export type BackupCodesRepo = ReturnType<typeof createBackupCodesRepo>;
