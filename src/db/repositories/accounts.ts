import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { isUniqueViolation } from '../errors.ts';
import { accounts, type Account } from '../schema.ts';
import { countedFailure, FAILURE_COLUMN, type FailureKind } from './failure-counts.ts';
import { insertOrganization, personalOrganizationName } from './organizations.ts';
import { strandedIn } from './organization-members.ts';

export type { Account, FailureKind };

export interface NewAccount {
  email: string;
  passwordHash: string;
  name: string;
  givenName?: string | null;
  familyName?: string | null;
  locale?: string;
  zoneinfo?: string;
  emailVerified?: boolean;
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Inserts an account and its personal organization inside the caller's transaction (sign-up from
 *  an invitation makes the membership in the same one); undefined when the email is taken. */
export async function insertAccount(tx: Db, input: NewAccount): Promise<Account | undefined> {
  const rows = await tx
    .insert(accounts)
    .values({
      id: crypto.randomUUID(),
      email: normalizeEmail(input.email),
      passwordHash: input.passwordHash,
      name: input.name,
      givenName: input.givenName ?? null,
      familyName: input.familyName ?? null,
      locale: input.locale ?? 'en',
      zoneinfo: input.zoneinfo ?? 'UTC',
      emailVerified: input.emailVerified ?? false,
    })
    .onConflictDoNothing()
    .returning();
  const account = rows[0];
  if (account) await insertOrganization(tx, { name: personalOrganizationName(account), type: 'personal' }, account.id);
  return account;
}

export function createAccountsRepo(db: Db) {
  return {
    async findById(id: string): Promise<Account | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
      return row;
    },
    async findByEmail(email: string): Promise<Account | undefined> {
      const [row] = await db
        .select()
        .from(accounts)
        .where(sql`lower(${accounts.email}) = ${normalizeEmail(email)}`)
        .limit(1);
      return row;
    },
    /** Returns undefined when the email is already taken (unique index), never throws for that.
     *  The account comes with its personal organization, of which it is the legal representative,
     *  in one transaction: every account belongs to an organization. */
    async create(input: NewAccount): Promise<Account | undefined> {
      return db.transaction((tx) => insertAccount(tx as unknown as Db, input));
    },
    async setPasswordHash(id: string, passwordHash: string) {
      await db.update(accounts).set({ passwordHash, updatedAt: new Date() }).where(eq(accounts.id, id));
    },
    /** Reserves one failed attempt of a kind (atomic increment) unless the account is locked;
     *  returns the count including this attempt, or undefined when locked. */
    async reserveAttempt(id: string, kind: FailureKind): Promise<number | undefined> {
      const col = FAILURE_COLUMN[kind];
      const rows = await db
        .update(accounts)
        .set(countedFailure(accounts, kind))
        .where(sql`${accounts.id} = ${id} AND ${accounts.lockedAt} IS NULL`)
        .returning({ n: accounts[col] });
      return rows[0]?.n;
    },
    /** Gives back an attempt reserved by reserveAttempt() when the answer turned out right. */
    async releaseAttempt(id: string, kind: FailureKind): Promise<void> {
      const col = FAILURE_COLUMN[kind];
      await db
        .update(accounts)
        .set({ [col]: sql`GREATEST(${accounts[col]} - 1, 0)` })
        .where(eq(accounts.id, id));
    },
    /** Counts a failure that needs no reservation (a push request denied on the phone). */
    async countFailure(id: string, kind: FailureKind): Promise<void> {
      await db.update(accounts).set(countedFailure(accounts, kind)).where(eq(accounts.id, id));
    },
    /** A completed sign-in forgives every failed attempt. */
    async resetFailures(id: string): Promise<void> {
      await db
        .update(accounts)
        .set({ failedPasswords: 0, failedSecondFactors: 0 })
        .where(
          sql`${accounts.id} = ${id} AND (${accounts.failedPasswords} > 0 OR ${accounts.failedSecondFactors} > 0)`,
        );
    },
    /** A completed web sign-in: the sync channel's budget (app-passwords/verify.ts) starts over. */
    async resetSync(id: string): Promise<void> {
      await db
        .update(accounts)
        .set({ syncFailures: 0, syncLockedAt: null })
        .where(sql`${accounts.id} = ${id} AND (${accounts.syncFailures} > 0 OR ${accounts.syncLockedAt} IS NOT NULL)`);
    },
    /** Locks the account; true only for the call that locked it (one email, one log line). */
    async lock(id: string, at = new Date()): Promise<boolean> {
      const rows = await db
        .update(accounts)
        .set({ lockedAt: at })
        .where(sql`${accounts.id} = ${id} AND ${accounts.lockedAt} IS NULL`)
        .returning({ id: accounts.id });
      return rows.length === 1;
    },
    /** Unlocks and forgives every failed attempt in one statement; true when it was locked. */
    async unlock(id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const rows = await db.execute(sql`
        UPDATE accounts SET locked_at = NULL, failed_passwords = 0, failed_second_factors = 0,
          sync_failures = 0, sync_locked_at = NULL
        FROM (SELECT id, locked_at FROM accounts WHERE id = ${id} FOR UPDATE) AS old
        WHERE accounts.id = old.id RETURNING old.locked_at IS NOT NULL AS was_locked`);
      return (rows as unknown as { rows: { was_locked: boolean }[] }).rows[0]?.was_locked === true;
    },
    async update(
      id: string,
      fields: Partial<
        Pick<
          Account,
          | 'name'
          | 'givenName'
          | 'familyName'
          | 'locale'
          | 'zoneinfo'
          | 'lockoutThreshold'
          | 'alertEverySignIn'
          | 'alertFailedPassword'
          | 'recoveryEmail'
          | 'recoveryPhone'
          | 'recoveryPhoneHash'
        >
      >,
    ) {
      await db
        .update(accounts)
        .set({ ...fields, updatedAt: new Date() })
        .where(eq(accounts.id, id));
    },
    /** The organization the account pages work in (the switcher); the caller checked membership. */
    async setCurrentOrganization(id: string, organizationId: string): Promise<void> {
      await db.update(accounts).set({ currentOrganizationId: organizationId }).where(eq(accounts.id, id));
    },
    /** The new login email, verified (it was confirmed by a link); false if another account has it. */
    async setEmail(id: string, email: string): Promise<boolean> {
      try {
        const rows = await db
          .update(accounts)
          .set({ email: normalizeEmail(email), emailVerified: true, updatedAt: new Date() })
          .where(eq(accounts.id, id))
          .returning({ id: accounts.id });
        return rows.length === 1;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    /** The account, and the organizations it was alone in once they hold no application (its
     *  personal one is named after it: the name must not outlive the account). Organizations with
     *  other members or with applications stay. */
    /** Deletes the account, unless it is the last legal representative of an organization that
     *  still has other members or applications: false then, and nothing deleted. Its organizations
     *  are locked first (in id order, as one organization at a time is by role changes and
     *  removals), so two legal representatives deleting their accounts at once cannot both go. */
    async delete(id: string): Promise<boolean> {
      return db.transaction(async (t) => {
        const tx = t as unknown as Db;
        await tx.execute(sql`SELECT id FROM organizations WHERE id IN
          (SELECT organization_id FROM memberships WHERE account_id = ${id}) ORDER BY id FOR UPDATE`);
        if ((await strandedIn(tx, id)).length) return false;
        const alone = await tx.execute(sql`
          SELECT m.organization_id AS id FROM memberships m WHERE m.account_id = ${id}
          AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.organization_id = m.organization_id AND o.account_id <> ${id})`);
        const ids = (alone as unknown as { rows: { id: string }[] }).rows.map((r) => r.id);
        await tx.delete(accounts).where(eq(accounts.id, id));
        for (const orgId of ids)
          await tx.execute(sql`DELETE FROM organizations WHERE id = ${orgId}
            AND NOT EXISTS (SELECT 1 FROM applications WHERE organization_id = ${orgId})`);
        return true;
      });
    },
    async findByRecoveryPhoneHash(hash: string): Promise<Account[]> {
      return db.select().from(accounts).where(eq(accounts.recoveryPhoneHash, hash)).limit(5);
    },
    async findByRecoveryEmail(email: string): Promise<Account[]> {
      return db
        .select()
        .from(accounts)
        .where(sql`lower(${accounts.recoveryEmail}) = ${normalizeEmail(email)}`)
        .limit(5);
    },
    async markEmailVerified(id: string, email: string): Promise<boolean> {
      const rows = await db
        .update(accounts)
        .set({ emailVerified: true, updatedAt: new Date() })
        .where(sql`${accounts.id} = ${id} AND lower(${accounts.email}) = ${normalizeEmail(email)}`)
        .returning({ id: accounts.id });
      return rows.length === 1;
    },
  };
}
export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
