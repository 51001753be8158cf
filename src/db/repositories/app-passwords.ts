// App passwords (src/app-passwords/): rows keyed by the secret's HMAC, and the sync channel's own
// lockout budget in the accounts row (migration 0013).
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { accounts, appPasswords, type Account, type AppPasswordRow } from '../schema.ts';
import { normalizeEmail } from './accounts.ts';

export type { AppPasswordRow };

export interface NewAppPassword {
  id: string;
  accountId: string;
  name: string;
  secretHash: string;
  createdAt: Date;
}

/** What one sign-in on the sync channel needs to decide, read in one query. */
export interface SyncLogin {
  account: Account;
  /** The app password of this account whose HMAC was given, if any. */
  appPassword: AppPasswordRow | undefined;
  /** An enrolled second factor (backup codes alone are not 2FA: organizations/two-factor-policy.ts). */
  has2fa: boolean;
  /** Blocked by an organization it is a member of. */
  blocked: boolean;
  /** An organization of the account (membership not blocked) requires 2FA. */
  orgRequires2fa: boolean;
}

/** The sync budget's failures older than this are forgiven, like the sign-in page's. */
const FORGOTTEN = sql.raw(`interval '90 days'`);

export function createAppPasswordsRepo(db: Db) {
  const own = (accountId: string, ids: readonly string[]) =>
    and(eq(appPasswords.accountId, accountId), inArray(appPasswords.id, [...ids]));
  return {
    async insert(row: NewAppPassword): Promise<AppPasswordRow> {
      const [created] = await db.insert(appPasswords).values(row).returning();
      if (!created) throw new Error('app password not inserted');
      return created;
    },
    /** Newest first. */
    listByAccount(accountId: string): Promise<AppPasswordRow[]> {
      return db
        .select()
        .from(appPasswords)
        .where(eq(appPasswords.accountId, accountId))
        .orderBy(desc(appPasswords.createdAt), desc(appPasswords.id));
    },
    async countByAccount(accountId: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(appPasswords)
        .where(eq(appPasswords.accountId, accountId));
      return row?.n ?? 0;
    },
    /** Deletes those of `ids` that are this account's; returns them. */
    async deleteOwn(accountId: string, ids: readonly string[]): Promise<AppPasswordRow[]> {
      if (!ids.length) return [];
      return db.delete(appPasswords).where(own(accountId, ids)).returning();
    },
    deleteAll(accountId: string): Promise<AppPasswordRow[]> {
      return db.delete(appPasswords).where(eq(appPasswords.accountId, accountId)).returning();
    },
    /** The account signing in by `login` (its email), with the app password whose HMAC is
     *  `secretHash` when it is this account's, and the state that decides the answer. */
    async findForLogin(login: string, secretHash: string | undefined): Promise<SyncLogin | undefined> {
      const rows = await db
        .select({
          account: accounts,
          appPassword: appPasswords,
          has2fa: sql<boolean>`EXISTS (SELECT 1 FROM second_factors f WHERE f.account_id = ${accounts.id})`,
          blocked: sql<boolean>`EXISTS (SELECT 1 FROM memberships m
            WHERE m.account_id = ${accounts.id} AND m.blocked_at IS NOT NULL)`,
          orgRequires2fa: sql<boolean>`EXISTS (SELECT 1 FROM memberships m JOIN organizations o
            ON o.id = m.organization_id WHERE m.account_id = ${accounts.id} AND m.blocked_at IS NULL
            AND o.require_2fa)`,
        })
        .from(accounts)
        .leftJoin(
          appPasswords,
          and(eq(appPasswords.accountId, accounts.id), eq(appPasswords.secretHash, secretHash ?? '')),
        )
        .where(sql`lower(${accounts.email}) = ${normalizeEmail(login)}`)
        .limit(1);
      const row = rows[0];
      if (!row) return undefined;
      return { ...row, appPassword: row.appPassword ?? undefined };
    },
    /** Records a use (written after the answer). `networks`: the new list when it changed. */
    async touch(id: string, use: { at: Date; ip: string; service: string | null; networks?: string[] }) {
      await db
        .update(appPasswords)
        .set({
          lastUsedAt: use.at,
          lastUsedIp: use.ip,
          lastUsedService: use.service,
          ...(use.networks ? { networks: use.networks } : {}),
        })
        .where(eq(appPasswords.id, id));
    },
    /** Reserves one attempt of the sync budget (atomic); undefined while it is locked. */
    async reserveSyncAttempt(accountId: string): Promise<number | undefined> {
      const rows = await db
        .update(accounts)
        .set({
          syncFailures: sql`CASE WHEN ${accounts.syncFailedAt} IS NULL OR ${accounts.syncFailedAt} < now() - ${FORGOTTEN}
            THEN 1 ELSE ${accounts.syncFailures} + 1 END`,
          syncFailedAt: sql`now()`,
        })
        .where(sql`${accounts.id} = ${accountId} AND ${accounts.syncLockedAt} IS NULL`)
        .returning({ n: accounts.syncFailures });
      return rows[0]?.n;
    },
    async releaseSyncAttempt(accountId: string): Promise<void> {
      await db
        .update(accounts)
        .set({ syncFailures: sql`GREATEST(${accounts.syncFailures} - 1, 0)` })
        .where(eq(accounts.id, accountId));
    },
    /** True only for the call that locked it. */
    async lockSync(accountId: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(accounts)
        .set({ syncLockedAt: at })
        .where(sql`${accounts.id} = ${accountId} AND ${accounts.syncLockedAt} IS NULL`)
        .returning({ id: accounts.id });
      return rows.length === 1;
    },
  };
}
export type AppPasswordsRepo = ReturnType<typeof createAppPasswordsRepo>;
