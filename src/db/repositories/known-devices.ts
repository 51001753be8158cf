// Devices (an HMAC of a long-lived cookie) and networks an account has signed in from.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { knownDevices } from '../schema.ts';
import { rowCount } from './row-count.ts';

export function createKnownDevicesRepo(db: Db) {
  return {
    /** What the account's history says about this device and network. */
    async seen(
      accountId: string,
      deviceHash: string,
      network: string,
    ): Promise<{ any: boolean; device: boolean; network: boolean }> {
      const [row] = await db
        .select({
          any: sql<number>`count(*)::int`,
          device: sql<number>`count(*) FILTER (WHERE ${knownDevices.deviceHash} = ${deviceHash})::int`,
          network: sql<number>`count(*) FILTER (WHERE ${knownDevices.network} = ${network})::int`,
        })
        .from(knownDevices)
        .where(eq(knownDevices.accountId, accountId));
      return { any: (row?.any ?? 0) > 0, device: (row?.device ?? 0) > 0, network: (row?.network ?? 0) > 0 };
    },
    async remember(accountId: string, deviceHash: string, network: string, at = new Date()) {
      await db
        .insert(knownDevices)
        .values({ accountId, deviceHash, network, firstSeen: at, lastSeen: at })
        .onConflictDoUpdate({
          target: [knownDevices.accountId, knownDevices.deviceHash, knownDevices.network],
          set: { lastSeen: at },
        });
    },
    /** One batch of the cleanup: the next hundred accounts after `after` (in id order) with more
     *  than `keep` rows or rows older than `maxAgeDays`. The alerts ask only "is this device known?"
     *  and "is this network known?", so an account keeps, of what it used within `maxAgeDays`, the
     *  newest row of each of its `keep` most recent devices and of each of its `keep` most recent
     *  networks — at most 2 × keep rows — and always its newest row, the baseline: without one,
     *  the next sign-in would count as the account's first and alert nobody. `next`: where the
     *  following batch starts (the same accounts again when this one hit the batch size), or null. */
    async prune(
      opts: { keep: number; maxAgeDays: number },
      batch: number,
      after = '00000000-0000-0000-0000-000000000000',
    ): Promise<{ deleted: number; next: string | null }> {
      const ACCOUNTS = 100;
      const cutoff = sql`now() - make_interval(days => ${opts.maxAgeDays})`;
      const accounts = (
        (await db.execute(sql`
          SELECT account_id FROM known_devices WHERE account_id > ${after}::uuid GROUP BY account_id
          HAVING count(*) > 1 AND (count(*) > ${opts.keep} OR min(last_seen) < ${cutoff})
          ORDER BY account_id LIMIT ${ACCOUNTS}`)) as unknown as { rows: { account_id: string }[] }
      ).rows.map((r) => r.account_id);
      if (accounts.length === 0) return { deleted: 0, next: null };
      const rows = await db.execute(sql`
        WITH ranked AS (
          SELECT account_id, device_hash, network, last_seen,
            row_number() OVER (PARTITION BY account_id ORDER BY last_seen DESC) AS newest,
            row_number() OVER (PARTITION BY account_id, device_hash ORDER BY last_seen DESC) AS of_device,
            row_number() OVER (PARTITION BY account_id, network ORDER BY last_seen DESC) AS of_network
          FROM known_devices
          WHERE account_id IN (${sql.join(
            accounts.map((a) => sql`${a}::uuid`),
            sql`, `,
          )})
        ), placed AS (
          SELECT ranked.*,
            row_number() OVER (PARTITION BY account_id, of_device = 1 ORDER BY last_seen DESC) AS device_place,
            row_number() OVER (PARTITION BY account_id, of_network = 1 ORDER BY last_seen DESC) AS network_place
          FROM ranked
        )
        DELETE FROM known_devices k USING (
          SELECT account_id, device_hash, network FROM placed
          WHERE newest > 1 AND NOT (last_seen >= ${cutoff} AND (
            (of_device = 1 AND device_place <= ${opts.keep}) OR (of_network = 1 AND network_place <= ${opts.keep})))
          LIMIT ${batch}) d
        WHERE k.account_id = d.account_id AND k.device_hash = d.device_hash AND k.network = d.network
        RETURNING 1`);
      const deleted = rowCount(rows);
      if (deleted === batch) return { deleted, next: after };
      return { deleted, next: accounts.length < ACCOUNTS ? null : (accounts.at(-1) ?? null) };
    },
    /** Forgets every device and network (an address's owner taking over an account made with it). */
    async forgetAll(accountId: string) {
      await db.delete(knownDevices).where(eq(knownDevices.accountId, accountId));
    },
  };
}
export type KnownDevicesRepo = ReturnType<typeof createKnownDevicesRepo>;
