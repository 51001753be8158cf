// What Sesame knows about each signed-in browser (oidc-provider's Session keeps no IP or browser),
// joined with the live Session records to list an account's signed-in devices.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { sessionInfo, oidcPayloads } from '../schema.ts';
import { rowCount } from './row-count.ts';

export interface LiveSession {
  uid: string;
  jti: string;
  ip: string | null;
  device: string | null;
  signedInAt: Date;
  lastActiveAt: Date;
  authorizations: Record<string, { grantId?: string; sid?: string }>;
}

export function createSessionInfoRepo(db: Db) {
  return {
    /** Records a browser session's address and browser; the first call sets "signed in at". */
    async touch(uid: string, accountId: string, seen: { ip: string; device: string }, at = new Date()) {
      const { ip, device } = seen;
      await db
        .insert(sessionInfo)
        .values({ sessionUid: uid, accountId, ip, device, signedInAt: at, lastActiveAt: at })
        .onConflictDoUpdate({ target: sessionInfo.sessionUid, set: { ip, device, lastActiveAt: at, accountId } });
    },
    /** The account's sessions that still exist (not ended, not expired), most recently active first. */
    async live(accountId: string): Promise<LiveSession[]> {
      // Every live Session record of the account, with what Sesame noted about it when it has.
      const rows = await db
        .select({
          uid: oidcPayloads.uid,
          jti: oidcPayloads.id,
          ip: sessionInfo.ip,
          device: sessionInfo.device,
          signedInAt: sessionInfo.signedInAt,
          lastActiveAt: sessionInfo.lastActiveAt,
          payload: oidcPayloads.payload,
        })
        .from(oidcPayloads)
        .leftJoin(sessionInfo, eq(sessionInfo.sessionUid, oidcPayloads.uid))
        .where(
          and(
            eq(oidcPayloads.model, 'Session'),
            sql`${oidcPayloads.payload}->>'accountId' = ${accountId}`,
            sql`(${oidcPayloads.expiresAt} IS NULL OR ${oidcPayloads.expiresAt} > now())`,
          ),
        )
        .orderBy(sql`${sessionInfo.lastActiveAt} DESC NULLS LAST`);
      return rows.map(({ payload, ...r }) => {
        const loginTs = typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : new Date(0);
        return {
          ...r,
          uid: r.uid ?? r.jti,
          signedInAt: r.signedInAt ?? loginTs,
          lastActiveAt: r.lastActiveAt ?? loginTs,
          authorizations: (payload.authorizations ?? {}) as LiveSession['authorizations'],
        };
      });
    },
    async forget(uid: string) {
      await db.delete(sessionInfo).where(eq(sessionInfo.sessionUid, uid));
    },
    /** One batch of the cleanup: rows whose Session is gone or expired. A row is written when an
     *  authorization is accepted, before oidc-provider saves a new session at the end of that
     *  request: an hour's margin keeps such a row. */
    async deleteOrphans(batch: number): Promise<number> {
      const rows = await db.execute(sql`
        DELETE FROM session_info WHERE session_uid IN (
          SELECT s.session_uid FROM session_info s
          WHERE s.last_active_at < now() - interval '1 hour'
            AND NOT EXISTS (
              SELECT 1 FROM oidc_payloads p WHERE p.model = 'Session' AND p.uid = s.session_uid
                AND (p.expires_at IS NULL OR p.expires_at > now()))
          LIMIT ${batch})
        RETURNING 1`);
      return rowCount(rows);
    },
  };
}
export type SessionInfoRepo = ReturnType<typeof createSessionInfoRepo>;
