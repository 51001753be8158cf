// The periodic cleanup keeps every table bounded: expired oidc-provider rows and emailed links, old
// activity, session_info rows whose session is gone, known and trusted devices past their bounds,
// refresh tokens reuse detection no longer needs. Each rule deletes in batches (short statements,
// no long row locks). One node at a time: a round runs under a transaction-level advisory lock, and
// a node that does not get it skips the round (`sesame cleanup` runs one round on demand).
import { sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Database, Db } from '../db/client.ts';
import type { Logger } from '../lib/logger.ts';
import { startPeriodic } from '../lib/periodic.ts';
import { deleteExpiredPayloads } from '../oidc/adapter.ts';
import { deleteSpentRefreshTokens } from '../oidc/refresh-rotation.ts';
import { createOneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import { createActivityRepo } from '../db/repositories/activity.ts';
import { createSessionInfoRepo } from '../db/repositories/session-info.ts';
import { createKnownDevicesRepo } from '../db/repositories/known-devices.ts';
import { createTrustedDevicesRepo } from '../db/repositories/trusted-devices.ts';
import { ADVISORY_LOCKS } from '../db/locks.ts';

export interface CleanupDeps {
  database: Database;
  config: Config;
  logger: Logger;
}

export interface CleanupCounts {
  expired_oidc_rows: number;
  expired_links: number;
  activity: number;
  session_info: number;
  known_devices: number;
  trusted_devices: number;
  refresh_tokens: number;
}

export type CleanupResult = { skipped: true } | { skipped: false; deleted: CleanupCounts };

const LOCK_ID = ADVISORY_LOCKS.cleanup;
const BATCH = 1000;
/** A round stops a rule after this many batches; the next round goes on (a backlog never makes one
 *  round long). */
const MAX_BATCHES = 100;
/** Known devices: the newest row of an account's 20 most recent devices and 20 most recent
 *  networks, seen within 180 days (alerts/login). Older or rarer ones alert as new again. */
export const KNOWN_DEVICES = { keep: 20, maxAgeDays: 180 };
/** A browser that has not completed a sign-in for a year loses its own lockout budget. */
export const TRUSTED_DEVICE_MAX_AGE_DAYS = 365;
/** Consumed refresh tokens stay at least the grace period plus this margin. */
const REFRESH_MARGIN_SECONDS = 60;

async function inBatches(one: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await one();
    total += n;
    if (n < BATCH) break;
  }
  return total;
}

/** Account by account (known-devices.ts), up to MAX_BATCHES batches a round. */
async function pruneKnownDevices(known: ReturnType<typeof createKnownDevicesRepo>): Promise<number> {
  let total = 0;
  let after: string | undefined;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const { deleted, next } = await known.prune(KNOWN_DEVICES, BATCH, after);
    total += deleted;
    if (next === null) break;
    after = next;
  }
  return total;
}

async function runRules(db: Db, config: Config): Promise<CleanupCounts> {
  const known = createKnownDevicesRepo(db);
  const trusted = createTrustedDevicesRepo(db);
  const links = createOneTimeTokensRepo(db);
  const activity = createActivityRepo(db);
  const sessions = createSessionInfoRepo(db);
  return {
    expired_oidc_rows: await deleteExpiredPayloads(db, BATCH),
    expired_links: await inBatches(() => links.deleteExpired(BATCH)),
    // The activity log keeps ACTIVITY_RETENTION_DAYS.
    activity: await inBatches(() =>
      activity.deleteOlderThan(new Date(Date.now() - config.activityRetentionDays * 86_400_000), BATCH),
    ),
    session_info: await inBatches(() => sessions.deleteOrphans(BATCH)),
    known_devices: await pruneKnownDevices(known),
    trusted_devices: await inBatches(() => trusted.prune(TRUSTED_DEVICE_MAX_AGE_DAYS, BATCH)),
    refresh_tokens: await inBatches(() =>
      deleteSpentRefreshTokens(db, config.refreshTokenReuseGraceSeconds + REFRESH_MARGIN_SECONDS, BATCH),
    ),
  };
}

/** Rounds under way in this process (a timer's round and an on-demand one). */
const running = new WeakSet<Database>();

/** One round, unless another one holds the lock (this node's or another's): then skipped. */
export async function runCleanup(deps: CleanupDeps): Promise<CleanupResult> {
  const { database } = deps;
  if (running.has(database)) return { skipped: true };
  running.add(database);
  try {
    // PGlite is this process's own database (no other node shares it) and runs nothing beside an
    // open transaction: the in-process guard above is the lock, and each batch commits by itself
    // so requests go on between them. On PostgreSQL, on the maintenance connections (no request's
    // query timeout, no request's slot): a transaction that only holds the lock, while the batches
    // commit one by one on another connection.
    const deleted =
      database.kind === 'pglite'
        ? await runRules(database.db, deps.config)
        : await database.maintenance.transaction(async (tx) => {
            const got = await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${LOCK_ID}) AS got`);
            if (!(got as unknown as { rows: { got: boolean }[] }).rows[0]?.got) return undefined;
            return runRules(database.maintenance, deps.config);
          });
    if (!deleted) return { skipped: true };
    if (Object.values(deleted).some((n) => n > 0)) deps.logger.info({ deleted }, 'cleanup deleted rows');
    return { skipped: false, deleted };
  } finally {
    running.delete(database);
  }
}

/** A round every 10 minutes (with jitter, so several nodes spread out), and one at start. */
export function startCleanup(deps: CleanupDeps): () => void {
  return startPeriodic(() => runCleanup(deps), 10 * 60_000, deps.logger, 'cleanup');
}
