// Refresh token rotation with a bounded grace period for retries (RFC 9700 §4.14.2; Ory Hydra's
// "refresh token rotation grace period"). Every refresh consumes the token and issues its successor;
// when the response is lost (a 5xx, a reset, a killed node) the client retries with the same token.
// Without a grace that retry is reuse and revokes the grant — the user loses the sign-in. Here a
// consumed token presented again to the token endpoint gets a new token set when all of these hold:
// - time: within GRACE seconds of its first consumption;
// - count: at most REISSUE_CAP re-issues from that token;
// - lineage: no newer token of its chain has been used (consumed after it, in the deployment-wide
//   order of refresh_issue_seq, not by the nodes' clocks).
// Each re-issue supersedes the chain's live token (it is marked consumed and gets no grace of its
// own), so a chain has at most one live token (a unique index says so) and a stolen copy replayed
// inside the window forks nothing: whichever holder presents a superseded token afterwards revokes
// the grant. Every check is one conditional UPDATE; outside the bounds the replay revokes as before.
import Provider from 'oidc-provider';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { rowCount } from '../db/repositories/row-count.ts';

/** Re-issues one consumed token may give: a client's retry policy (3 attempts is common) with room
 *  to spare, yet a stolen copy cannot mint tokens at will. */
export const REISSUE_CAP = 5;

export interface RefreshRow {
  consumedAt: Date | null;
  reissues: number;
  chainId: string | null;
  grantId: string | null;
}

export interface NewRefreshRow {
  payload: Record<string, unknown>;
  grantId: string | null;
  uid: string | null;
  expiresAt: Date | null;
}

/** True while oidc-provider serves the token endpoint's refresh_token grant: introspection,
 *  revocation and every other caller see a consumed token as consumed. */
function inRefreshGrant(): boolean {
  const oidc = Provider.ctx?.oidc;
  return oidc?.route === 'token' && oidc.params?.grant_type === 'refresh_token';
}

/** The token this request rotates (consumed just before its successor is saved). */
function rotatedFrom(): string | undefined {
  return Provider.ctx?.oidc?.entities?.RotatedRefreshToken?.jti;
}

/** The issue number this request's consumption or re-issue took, for the successor it saves. */
const issueNumbers = new WeakMap<object, number>();
function rememberIssue(n: number | undefined) {
  const ctx = Provider.ctx;
  if (ctx && n !== undefined) issueNumbers.set(ctx, n);
}
function issueNumber(): number | undefined {
  const ctx = Provider.ctx;
  return ctx ? issueNumbers.get(ctx) : undefined;
}
const issued = (rows: unknown): number | undefined => {
  const n = (rows as { rows: Array<{ n: string | number }> }).rows[0]?.n;
  return n === undefined ? undefined : Number(n);
};

export function createRefreshRotation(deps: { db: Db; clock: Clock; graceSeconds: number }) {
  const { db, clock, graceSeconds } = deps;
  const windowStart = () => new Date(clock.now() - graceSeconds * 1000).toISOString();

  return {
    /** From the row find() read, no further I/O: may this consumed token's replay be a retry? The
     *  handler then calls consume(), where reissue() decides atomically. */
    mayRetry(row: RefreshRow): boolean {
      return (
        graceSeconds > 0 &&
        row.consumedAt !== null &&
        row.chainId !== null &&
        row.grantId !== null &&
        row.reissues < REISSUE_CAP &&
        row.consumedAt.getTime() > clock.now() - graceSeconds * 1000 &&
        inRefreshGrant()
      );
    },

    /** The first use: one conditional write, so of two parallel refreshes one wins (true). A token
     *  from before migration 0008 starts its chain here. */
    async consume(id: string): Promise<boolean> {
      const n = issued(
        await db.execute(sql`
          UPDATE oidc_payloads SET consumed_at = ${new Date(clock.now()).toISOString()}::timestamptz,
            chain_id = coalesce(chain_id, id), consumed_no = nextval('refresh_issue_seq')
          WHERE model = 'RefreshToken' AND id = ${id} AND consumed_at IS NULL
          RETURNING consumed_no AS n`),
      );
      rememberIssue(n);
      return n !== undefined;
    },

    /** A replay inside the bounds takes one re-issue; false when any bound is passed. The row lock
     *  of the UPDATE serialises parallel retries, so the count cannot be exceeded. */
    async reissue(id: string): Promise<boolean> {
      if (graceSeconds === 0 || !inRefreshGrant()) return false;
      const n = issued(
        await db.execute(sql`
          UPDATE oidc_payloads t SET reissues = t.reissues + 1
          WHERE t.model = 'RefreshToken' AND t.id = ${id}
            AND t.chain_id IS NOT NULL AND t.grant_id IS NOT NULL AND t.consumed_no IS NOT NULL
            AND t.consumed_at > ${windowStart()}::timestamptz
            AND t.reissues < ${REISSUE_CAP}
            AND NOT EXISTS (
              SELECT 1 FROM oidc_payloads r
              WHERE r.model = 'RefreshToken' AND r.chain_id = t.chain_id AND r.consumed_no > t.consumed_no)
          RETURNING nextval('refresh_issue_seq') AS n`),
      );
      rememberIssue(n);
      return n !== undefined;
    },

    /** Saves a refresh token. A successor joins its predecessor's chain, carrying the issue number
     *  its consumption or re-issue took, and supersedes the chain's live tokens issued before it (a
     *  re-issue's earlier successor): marked consumed at the predecessor's moment (so it never counts
     *  as "a newer token was used") with no grace left. A successor saved after one issued later (a
     *  slow original request overtaken by its own retry) goes in already superseded: the newest
     *  issue wins, not the last save. Two saves that race trip the one-live-token index; the loser
     *  runs again and sees the winner. Anything else is a plain upsert (a chain's first token starts
     *  the chain). The insert reads superseded's count, so the supersession is done before it. */
    async save(id: string, row: NewRefreshRow): Promise<void> {
      const parent = rotatedFrom();
      const payload = JSON.stringify(row.payload);
      const expiresAt = row.expiresAt?.toISOString() ?? null;
      const n = issueNumber() ?? null;
      const statement = parent
        ? sql`
          WITH parent AS (
            SELECT coalesce(chain_id, id) AS chain_id, consumed_at FROM oidc_payloads
            WHERE model = 'RefreshToken' AND id = ${parent}
          ), newer AS (
            SELECT 1 FROM oidc_payloads o, parent
            WHERE o.model = 'RefreshToken' AND o.chain_id = parent.chain_id AND o.issue_no > ${n}::bigint
            LIMIT 1
          ), superseded AS (
            UPDATE oidc_payloads o SET consumed_at = coalesce(parent.consumed_at, now()), reissues = ${REISSUE_CAP}
            FROM parent
            WHERE o.model = 'RefreshToken' AND o.chain_id = parent.chain_id AND o.consumed_at IS NULL AND o.id <> ${id}
              AND (o.issue_no IS NULL OR ${n}::bigint IS NULL OR o.issue_no < ${n}::bigint)
            RETURNING 1
          )
          INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, expires_at, chain_id, issue_no, consumed_at, reissues)
          SELECT 'RefreshToken', ${id}, ${payload}::jsonb, ${row.grantId}, ${row.uid}, ${expiresAt}::timestamptz,
            coalesce((SELECT chain_id FROM parent), ${id}), ${n}::bigint,
            CASE WHEN EXISTS (SELECT 1 FROM newer) THEN coalesce((SELECT consumed_at FROM parent), now()) END,
            CASE WHEN EXISTS (SELECT 1 FROM newer) THEN ${REISSUE_CAP} ELSE 0 END
          FROM (SELECT count(*) FROM superseded) AS done
          ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
            uid = excluded.uid, expires_at = excluded.expires_at`
        : sql`
          INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, expires_at, chain_id)
          VALUES ('RefreshToken', ${id}, ${payload}::jsonb, ${row.grantId}, ${row.uid}, ${expiresAt}::timestamptz, ${id})
          ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
            uid = excluded.uid, expires_at = excluded.expires_at`;
      for (let attempt = 1; ; attempt++) {
        try {
          await db.execute(statement);
          return;
        } catch (err) {
          // Each racing save of a chain can lose once: as many tries as a chain can have saves at once.
          if (!isUniqueViolation(err) || attempt === REISSUE_CAP + 2) throw err;
        }
      }
    },
  };
}
export type RefreshRotation = ReturnType<typeof createRefreshRotation>;

/** One batch of the cleanup: refresh tokens reuse detection no longer needs — those of a grant that
 *  is gone or expired (nothing left to protect or to revoke), and the consumed ones of a grant with
 *  no live refresh token left. A consumed token of a live grant stays until it expires: however many
 *  times a thief rotates a stolen token, the owner's copy still revokes the grant when it comes back
 *  (no cap on the count: the count is in the token holder's hands). Never one consumed within
 *  `keepSeconds` (the grace period and a margin): a retry needs it, and its successor may not be
 *  saved yet. */
export async function deleteSpentRefreshTokens(db: Db, keepSeconds: number, batch: number): Promise<number> {
  const settled = sql`now() - make_interval(secs => ${keepSeconds})`;
  const rows = await db.execute(sql`
    DELETE FROM oidc_payloads WHERE model = 'RefreshToken' AND id IN (
      SELECT r.id FROM oidc_payloads r
      WHERE r.model = 'RefreshToken' AND NOT EXISTS (
        SELECT 1 FROM oidc_payloads g WHERE g.model = 'Grant' AND g.id = r.grant_id
          AND (g.expires_at IS NULL OR g.expires_at > now()))
      UNION ALL
      SELECT r.id FROM oidc_payloads r
      WHERE r.model = 'RefreshToken' AND r.consumed_at < ${settled} AND NOT EXISTS (
        SELECT 1 FROM oidc_payloads l WHERE l.model = 'RefreshToken' AND l.grant_id = r.grant_id
          AND l.consumed_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > now()))
      LIMIT ${batch})
    RETURNING 1`);
  return rowCount(rows);
}
