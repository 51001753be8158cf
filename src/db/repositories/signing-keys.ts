// The signing_keys rows as stored (the private JWK still encrypted: oidc/signing-keys.ts opens it).
// Changes to the set happen in `locked`, one node at a time, so nodes starting together on an empty
// table make one key set, not one each.
import { and, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { signingKeys, type SigningKeyRow } from '../schema.ts';
import { ADVISORY_LOCKS } from '../locks.ts';

const LOCK_ID = ADVISORY_LOCKS.signingKeys;

function repoOver(db: Db) {
  return {
    /** Every row, oldest first. */
    all(): Promise<SigningKeyRow[]> {
      return db.select().from(signingKeys).orderBy(signingKeys.createdAt, signingKeys.kid);
    },
    async insert(rows: SigningKeyRow[]) {
      if (rows.length) await db.insert(signingKeys).values(rows);
    },
    /** Sets when the given keys stop signing and leave the JWKS; keys already retired keep theirs. */
    async retire(kids: string[], retiredAt: Date, removeAfter: Date): Promise<string[]> {
      if (!kids.length) return [];
      const rows = await db
        .update(signingKeys)
        .set({ retiredAt, removeAfter })
        .where(and(inArray(signingKeys.kid, kids), isNull(signingKeys.retiredAt)))
        .returning({ kid: signingKeys.kid });
      return rows.map((r) => r.kid);
    },
    /** Deletes the keys whose grace period has ended (nothing they signed is still valid). */
    async deleteRemovable(now: Date): Promise<string[]> {
      const rows = await db
        .delete(signingKeys)
        .where(lte(signingKeys.removeAfter, now))
        .returning({ kid: signingKeys.kid });
      return rows.map((r) => r.kid);
    },
  };
}
export type SigningKeysRepo = ReturnType<typeof repoOver>;

export function createSigningKeysRepo(db: Db) {
  return {
    ...repoOver(db),
    /** Runs `fn` in one transaction holding the key set's advisory lock (released at its end). */
    locked<T>(fn: (repo: SigningKeysRepo) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
        return fn(repoOver(tx as unknown as Db));
      });
    },
  };
}
