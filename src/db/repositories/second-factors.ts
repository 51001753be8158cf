// Enrolled second factors. Single-use and monotonic things (TOTP time steps, WebAuthn counters) are
// one conditional UPDATE each, never read-check-write (architecture habit 7).
import crypto from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { secondFactors, type SecondFactorRow, type FactorType } from '../schema.ts';

export type { SecondFactorRow, FactorType };

export interface NewFactor {
  accountId: string;
  type: FactorType;
  name: string;
  secret?: string | null;
  credentialId?: string | null;
  publicKey?: string | null;
  signCount?: number;
  lastStep?: number | null;
  data?: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createSecondFactorsRepo(db: Db) {
  return {
    async list(accountId: string, type?: FactorType): Promise<SecondFactorRow[]> {
      const where = type
        ? and(eq(secondFactors.accountId, accountId), eq(secondFactors.type, type))
        : eq(secondFactors.accountId, accountId);
      return db.select().from(secondFactors).where(where).orderBy(asc(secondFactors.createdAt), asc(secondFactors.id));
    },
    async count(accountId: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(secondFactors)
        .where(eq(secondFactors.accountId, accountId));
      return row?.n ?? 0;
    },
    async find(accountId: string, id: string): Promise<SecondFactorRow | undefined> {
      if (!UUID.test(id)) return undefined;
      const [row] = await db
        .select()
        .from(secondFactors)
        .where(and(eq(secondFactors.id, id), eq(secondFactors.accountId, accountId)))
        .limit(1);
      return row;
    },
    /** Inserts a factor; the account's first factor becomes its default. Undefined when the WebAuthn
     *  credential is already registered. */
    async create(input: NewFactor): Promise<SecondFactorRow | undefined> {
      return db.transaction(async (tx) => {
        // Serialises concurrent enrolments of one account so exactly one becomes the default.
        await tx.execute(sql`SELECT id FROM accounts WHERE id = ${input.accountId} FOR UPDATE`);
        const [existing] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(secondFactors)
          .where(eq(secondFactors.accountId, input.accountId));
        const rows = await tx
          .insert(secondFactors)
          .values({
            id: crypto.randomUUID(),
            accountId: input.accountId,
            type: input.type,
            name: input.name,
            secret: input.secret ?? null,
            credentialId: input.credentialId ?? null,
            publicKey: input.publicKey ?? null,
            signCount: input.signCount ?? 0,
            lastStep: input.lastStep ?? null,
            data: input.data ?? {},
            isDefault: (existing?.n ?? 0) === 0,
          })
          .onConflictDoNothing()
          .returning();
        return rows[0];
      });
    },
    /** Deletes one factor; if it was the default, the oldest remaining one becomes the default.
     *  Returns how many factors remain, or undefined when there was no such factor. */
    async delete(accountId: string, id: string): Promise<number | undefined> {
      if (!UUID.test(id)) return undefined;
      return db.transaction(async (tx) => {
        const deleted = await tx
          .delete(secondFactors)
          .where(and(eq(secondFactors.id, id), eq(secondFactors.accountId, accountId)))
          .returning({ isDefault: secondFactors.isDefault });
        if (!deleted.length) return undefined;
        const rest = await tx
          .select({ id: secondFactors.id })
          .from(secondFactors)
          .where(eq(secondFactors.accountId, accountId))
          .orderBy(asc(secondFactors.createdAt), asc(secondFactors.id));
        const next = rest[0];
        if (deleted[0]?.isDefault && next)
          await tx.update(secondFactors).set({ isDefault: true }).where(eq(secondFactors.id, next.id));
        return rest.length;
      });
    },
    /** Deletes every factor of the account; returns what was deleted (linked devices are told). */
    async deleteAll(accountId: string): Promise<{ id: string; type: FactorType }[]> {
      return db
        .delete(secondFactors)
        .where(eq(secondFactors.accountId, accountId))
        .returning({ id: secondFactors.id, type: secondFactors.type });
    },
    async rename(accountId: string, id: string, name: string): Promise<boolean> {
      if (!UUID.test(id)) return false;
      const rows = await db
        .update(secondFactors)
        .set({ name })
        .where(and(eq(secondFactors.id, id), eq(secondFactors.accountId, accountId)))
        .returning({ id: secondFactors.id });
      return rows.length === 1;
    },
    /** A linked kAuth device by its id (the device API knows no account). */
    async findDevice(id: string): Promise<SecondFactorRow | undefined> {
      if (!UUID.test(id)) return undefined;
      const [row] = await db
        .select()
        .from(secondFactors)
        .where(and(eq(secondFactors.id, id), eq(secondFactors.type, 'push')))
        .limit(1);
      return row;
    },
    async setDefault(accountId: string, id: string): Promise<boolean> {
      if (!UUID.test(id)) return false;
      return db.transaction(async (tx) => {
        const [target] = await tx
          .select({ id: secondFactors.id })
          .from(secondFactors)
          .where(and(eq(secondFactors.id, id), eq(secondFactors.accountId, accountId)))
          .for('update');
        if (!target) return false;
        await tx
          .update(secondFactors)
          .set({ isDefault: false })
          .where(and(eq(secondFactors.accountId, accountId), eq(secondFactors.isDefault, true)));
        await tx.update(secondFactors).set({ isDefault: true }).where(eq(secondFactors.id, id));
        return true;
      });
    },
    async touch(id: string, at = new Date()) {
      await db.update(secondFactors).set({ lastUsedAt: at }).where(eq(secondFactors.id, id));
    },
    /** RFC 6238 §5.2: a code is accepted once. Moves last_step forward only if `step` is newer; the
     *  first of two parallel submissions of one code wins, the other gets false. */
    async advanceTotpStep(id: string, step: number, at = new Date()): Promise<boolean> {
      const rows = await db
        .update(secondFactors)
        .set({ lastStep: step, lastUsedAt: at })
        .where(
          and(
            eq(secondFactors.id, id),
            sql`(${secondFactors.lastStep} IS NULL OR ${secondFactors.lastStep} < ${step})`,
          ),
        )
        .returning({ id: secondFactors.id });
      return rows.length === 1;
    },
    async findByCredentialId(accountId: string, credentialId: string): Promise<SecondFactorRow | undefined> {
      const [row] = await db
        .select()
        .from(secondFactors)
        .where(
          and(
            eq(secondFactors.accountId, accountId),
            eq(secondFactors.type, 'webauthn'),
            eq(secondFactors.credentialId, credentialId),
          ),
        )
        .limit(1);
      return row;
    },
    /** WebAuthn §6.1.1: the signature counter must grow (authenticators that keep none send 0 forever). */
    async advanceSignCount(id: string, previous: number, next: number, at = new Date()): Promise<boolean> {
      const rows = await db
        .update(secondFactors)
        .set({ signCount: next, lastUsedAt: at })
        .where(
          and(
            eq(secondFactors.id, id),
            eq(secondFactors.signCount, previous),
            sql`(${next} > ${previous} OR (${next} = 0 AND ${previous} = 0))`,
          ),
        )
        .returning({ id: secondFactors.id });
      return rows.length === 1;
    },
  };
}
export type SecondFactorsRepo = ReturnType<typeof createSecondFactorsRepo>;
