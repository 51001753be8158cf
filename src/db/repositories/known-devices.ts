// Devices (an HMAC of a long-lived cookie) and networks an account has signed in from.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { knownDevices } from '../schema.ts';

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
    /** Forgets every device and network (an address's owner taking over an account made with it). */
    async forgetAll(accountId: string) {
      await db.delete(knownDevices).where(eq(knownDevices.accountId, accountId));
    },
  };
}
export type KnownDevicesRepo = ReturnType<typeof createKnownDevicesRepo>;
