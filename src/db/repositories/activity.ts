// The activity log: every sign-in and every security change, per account, newest first.
import crypto from 'node:crypto';
import { and, desc, eq, gte, ilike, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { activity, applications, type ActivityRow } from '../schema.ts';

export type { ActivityRow };

export interface ActivityEvent {
  accountId: string;
  type: string;
  ip?: string | null;
  device?: string | null;
  clientId?: string | null;
  application?: string | null;
  details?: Record<string, unknown>;
  at?: Date;
}

export interface ActivityFilter {
  from?: Date;
  /** Exclusive. */
  to?: Date;
  types?: readonly string[];
  clientId?: string;
  /** Text to find in the application, address or device, or one of these types (whose description
   *  in the user's language contains it). */
  search?: { text: string; types: readonly string[] };
}

/** A LIKE pattern matching `text` anywhere, its own % and _ taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export function createActivityRepo(db: Db) {
  const where = (accountId: string, f: ActivityFilter) =>
    and(
      eq(activity.accountId, accountId),
      f.from ? gte(activity.at, f.from) : undefined,
      f.to ? lt(activity.at, f.to) : undefined,
      f.types?.length ? inArray(activity.type, [...f.types]) : undefined,
      f.clientId ? eq(activity.clientId, f.clientId) : undefined,
      f.search
        ? or(
            f.search.types.length ? inArray(activity.type, [...f.search.types]) : undefined,
            ilike(activity.application, containing(f.search.text)),
            ilike(activity.ip, containing(f.search.text)),
            ilike(activity.device, containing(f.search.text)),
          )
        : undefined,
    );
  return {
    async record(e: ActivityEvent): Promise<void> {
      await db.insert(activity).values({
        // Without an explicit time the database's clock stamps it (microseconds: a stable order).
        id: crypto.randomUUID(),
        accountId: e.accountId,
        type: e.type,
        ...(e.at ? { at: e.at } : {}),
        ip: e.ip ?? null,
        device: e.device ?? null,
        clientId: e.clientId ?? null,
        application: e.application ?? null,
        details: e.details ?? {},
      });
    },
    async list(accountId: string, f: ActivityFilter, page: { limit: number; offset: number }): Promise<ActivityRow[]> {
      return db
        .select()
        .from(activity)
        .where(where(accountId, f))
        .orderBy(desc(activity.at), desc(activity.id))
        .limit(page.limit)
        .offset(page.offset);
    },
    async count(accountId: string, f: ActivityFilter): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(activity)
        .where(where(accountId, f));
      return row?.n ?? 0;
    },
    /** The applications this account's activity mentions (for the filter), by client id: the
     *  current name of those that still exist, the recorded one of the others. */
    async applications(accountId: string): Promise<{ clientId: string; name: string; exists: boolean }[]> {
      const rows = await db
        .selectDistinct({
          clientId: activity.clientId,
          recorded: activity.application,
          current: applications.name,
        })
        .from(activity)
        .leftJoin(applications, eq(applications.clientId, activity.clientId))
        .where(and(eq(activity.accountId, accountId), sql`${activity.clientId} IS NOT NULL`));
      const seen = new Map<string, { clientId: string; name: string; exists: boolean }>();
      for (const r of rows) {
        if (!r.clientId) continue;
        const exists = r.current !== null;
        seen.set(r.clientId, { clientId: r.clientId, name: r.current ?? r.recorded ?? r.clientId, exists });
      }
      return [...seen.values()];
    },
    async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
      const rows = await db
        .delete(activity)
        .where(sql`${activity.id} IN (SELECT id FROM activity WHERE at < ${cutoff} LIMIT ${batch})`)
        .returning({ id: activity.id });
      return rows.length;
    },
  };
}
export type ActivityRepo = ReturnType<typeof createActivityRepo>;
