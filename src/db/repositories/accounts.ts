import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { accounts, type Account } from '../schema.ts';

export type { Account };

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

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createAccountsRepo(db: Db) {
  return {
    async findById(id: string): Promise<Account | undefined> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
      return row;
    },
    async findByEmail(email: string): Promise<Account | undefined> {
      const [row] = await db.select().from(accounts).where(sql`lower(${accounts.email}) = ${normalizeEmail(email)}`).limit(1);
      return row;
    },
    /** Returns undefined when the email is already taken (unique index), never throws for that. */
    async create(input: NewAccount): Promise<Account | undefined> {
      const rows = await db.insert(accounts).values({
        id: crypto.randomUUID(),
        email: normalizeEmail(input.email),
        passwordHash: input.passwordHash,
        name: input.name,
        givenName: input.givenName ?? null,
        familyName: input.familyName ?? null,
        locale: input.locale ?? 'en',
        zoneinfo: input.zoneinfo ?? 'UTC',
        emailVerified: input.emailVerified ?? false,
      }).onConflictDoNothing().returning();
      return rows[0];
    },
    async setPasswordHash(id: string, passwordHash: string) {
      await db.update(accounts).set({ passwordHash, updatedAt: new Date() }).where(eq(accounts.id, id));
    },
    /** Locks the account; true only for the call that locked it (one email, one log line). */
    async lock(id: string, at = new Date()): Promise<boolean> {
      const rows = await db.update(accounts).set({ lockedAt: at }).where(sql`${accounts.id} = ${id} AND ${accounts.lockedAt} IS NULL`).returning({ id: accounts.id });
      return rows.length === 1;
    },
    async unlock(id: string): Promise<boolean> {
      const rows = await db.update(accounts).set({ lockedAt: null }).where(sql`${accounts.id} = ${id} AND ${accounts.lockedAt} IS NOT NULL`).returning({ id: accounts.id });
      return rows.length === 1;
    },
    async update(id: string, fields: Partial<Pick<Account, 'name' | 'givenName' | 'familyName' | 'locale' | 'zoneinfo' | 'lockoutThreshold' | 'alertEverySignIn' | 'alertFailedPassword' | 'recoveryEmail' | 'recoveryPhone' | 'recoveryPhoneHash'>>) {
      await db.update(accounts).set({ ...fields, updatedAt: new Date() }).where(eq(accounts.id, id));
    },
    /** The new login email, verified (it was confirmed by a link); false if another account has it. */
    async setEmail(id: string, email: string): Promise<boolean> {
      try {
        const rows = await db.update(accounts).set({ email: normalizeEmail(email), emailVerified: true, updatedAt: new Date() }).where(eq(accounts.id, id)).returning({ id: accounts.id });
        return rows.length === 1;
      } catch (err) {
        if ((err as { code?: string }).code === '23505' || /unique|duplicate/i.test(String(err))) return false;
        throw err;
      }
    },
    async delete(id: string) {
      await db.delete(accounts).where(eq(accounts.id, id));
    },
    async findByRecoveryPhoneHash(hash: string): Promise<Account[]> {
      return db.select().from(accounts).where(eq(accounts.recoveryPhoneHash, hash)).limit(5);
    },
    async findByRecoveryEmail(email: string): Promise<Account[]> {
      return db.select().from(accounts).where(sql`lower(${accounts.recoveryEmail}) = ${normalizeEmail(email)}`).limit(5);
    },
    async markEmailVerified(id: string, email: string): Promise<boolean> {
      const rows = await db.update(accounts).set({ emailVerified: true, updatedAt: new Date() })
        .where(sql`${accounts.id} = ${id} AND lower(${accounts.email}) = ${normalizeEmail(email)}`).returning({ id: accounts.id });
      return rows.length === 1;
    },
  };
}
export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
