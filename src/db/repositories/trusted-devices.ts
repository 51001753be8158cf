// Browsers that have completed a sign-in to an account (an HMAC of their device cookie), each with
// its own lockout budget for that account: the same counters as the accounts row, atomic the same way.
import { sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { trustedDevices } from '../schema.ts';
import { countedFailure, heldFailures, FAILURE_COLUMN, type FailureKind } from './failure-counts.ts';
import { rowCount } from './row-count.ts';

export function createTrustedDevicesRepo(db: Db) {
  const one = (accountId: string, deviceHash: string) =>
    sql`${trustedDevices.accountId} = ${accountId} AND ${trustedDevices.deviceHash} = ${deviceHash}`;
  return {
    async isTrusted(accountId: string, deviceHash: string): Promise<boolean> {
      const rows = await db
        .select({ n: sql`1` })
        .from(trustedDevices)
        .where(one(accountId, deviceHash))
        .limit(1);
      return rows.length === 1;
    },
    /** After a completed sign-in from this browser: trusted from now on, its failures forgiven. */
    async trust(accountId: string, deviceHash: string, at = new Date()): Promise<void> {
      await db
        .insert(trustedDevices)
        .values({ accountId, deviceHash, firstSignIn: at, lastSignIn: at })
        .onConflictDoUpdate({
          target: [trustedDevices.accountId, trustedDevices.deviceHash],
          set: { lastSignIn: at, failedPasswords: 0, failedSecondFactors: 0 },
        });
    },
    /** Reserves one failed attempt (atomic increment) unless this browser is locked for the account;
     *  the count including this attempt, or undefined when locked (or not trusted). */
    async reserveAttempt(accountId: string, deviceHash: string, kind: FailureKind): Promise<number | undefined> {
      const col = FAILURE_COLUMN[kind];
      const rows = await db
        .update(trustedDevices)
        .set(countedFailure(trustedDevices, kind))
        .where(sql`${one(accountId, deviceHash)} AND ${trustedDevices.lockedAt} IS NULL`)
        .returning({ n: trustedDevices[col] });
      return rows[0]?.n;
    },
    async releaseAttempt(accountId: string, deviceHash: string, kind: FailureKind): Promise<void> {
      const col = FAILURE_COLUMN[kind];
      await db
        .update(trustedDevices)
        .set({ [col]: sql`GREATEST(${trustedDevices[col]} - 1, 0)` })
        .where(one(accountId, deviceHash));
    },
    /** True only for the call that locked it. */
    async lock(accountId: string, deviceHash: string, at = new Date()): Promise<boolean> {
      const rows = await db
        .update(trustedDevices)
        .set({ lockedAt: at })
        .where(sql`${one(accountId, deviceHash)} AND ${trustedDevices.lockedAt} IS NULL`)
        .returning({ n: trustedDevices.deviceHash });
      return rows.length === 1;
    },
    /** One batch of the cleanup: browsers that have not signed in for `maxAgeDays` go (their next
     *  sign-in counts against the account's budget until it completes) — never one that is locked
     *  or holds failures not yet forgotten, whose count would start over. */
    async prune(maxAgeDays: number, batch: number): Promise<number> {
      const rows = await db.execute(sql`
        DELETE FROM trusted_devices t USING (
          SELECT account_id, device_hash FROM trusted_devices
          WHERE last_sign_in < now() - make_interval(days => ${maxAgeDays}) AND locked_at IS NULL
            AND NOT (${heldFailures(trustedDevices)})
          LIMIT ${batch}) d
        WHERE t.account_id = d.account_id AND t.device_hash = d.device_hash
        RETURNING 1`);
      return rowCount(rows);
    },
    /** Forgets every browser of the account (a fresh start: none of them is the owner's). */
    async forgetAll(accountId: string): Promise<void> {
      await db.delete(trustedDevices).where(sql`${trustedDevices.accountId} = ${accountId}`);
    },
    /** Whether one of the account's browsers is locked by itself (its owner's wrong answers). */
    async anyLocked(accountId: string): Promise<boolean> {
      const rows = await db
        .select({ n: sql`1` })
        .from(trustedDevices)
        .where(sql`${trustedDevices.accountId} = ${accountId} AND ${trustedDevices.lockedAt} IS NOT NULL`)
        .limit(1);
      return rows.length === 1;
    },
    /** Unlocks every browser of the account and forgives their failures; true when one was locked. */
    async unlockAll(accountId: string): Promise<boolean> {
      const rows = await db.execute(sql`
        UPDATE trusted_devices SET locked_at = NULL, failed_passwords = 0, failed_second_factors = 0
        FROM (SELECT account_id, device_hash, locked_at FROM trusted_devices WHERE account_id = ${accountId} FOR UPDATE) AS old
        WHERE trusted_devices.account_id = old.account_id AND trusted_devices.device_hash = old.device_hash
        RETURNING old.locked_at IS NOT NULL AS was_locked`);
      return (rows as unknown as { rows: { was_locked: boolean }[] }).rows.some((r) => r.was_locked);
    },
  };
}
export type TrustedDevicesRepo = ReturnType<typeof createTrustedDevicesRepo>;
