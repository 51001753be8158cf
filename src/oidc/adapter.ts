// One adapter factory switching on model name. Long-lived records that must survive restarts
// (Session, Grant, RefreshToken) go to PostgreSQL; short-lived, hot-path ones (Interaction,
// AuthorizationCode, AccessToken, ClientCredentials, ReplayDetection, …) to the store (Redis or
// in-process). Clients come from the applications table.
import { and, eq, sql } from 'drizzle-orm';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/client.ts';
import { oidcPayloads } from '../db/schema.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import { createRefreshRotation } from './refresh-rotation.ts';
import { rowCount } from '../db/repositories/row-count.ts';

const LONG_LIVED_MODELS = new Set(['Session', 'Grant', 'RefreshToken']);
/** Models whose records can be consumed once (RFC 6749 §4.1.2: a code is single-use). */
const CONSUMABLE = new Set([
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
  'RefreshToken',
]);

export interface AdapterDeps {
  db: Db;
  store: Store;
  findClient(clientId: string): Promise<AdapterPayload | undefined>;
  /** consumed_at is written and the refresh grace period measured by this clock. */
  clock: Clock;
  /** REFRESH_TOKEN_REUSE_GRACE_SECONDS (oidc/refresh-rotation.ts); 0: every replay revokes. */
  refreshGraceSeconds: number;
}

/** Refresh tokens are one character longer than every other opaque token: 264 bits of randomness,
 *  44 base64url characters, against 256 bits and 43 (oidc/provider.ts, formats). Introspection
 *  without a `token_type_hint` looks a token up as an access token, a client-credentials token and
 *  a refresh token at once; by its length alone an access token is no refresh token, and no
 *  PostgreSQL query is made for it (nor a store lookup for a refresh token). */
export const REFRESH_TOKEN_BITS = 264;
export const REFRESH_TOKEN_LENGTH = Math.ceil(REFRESH_TOKEN_BITS / 6);
/** Store models whose ids a refresh token's length rules out. */
const ACCESS_MODELS = new Set(['AccessToken', 'ClientCredentials']);

/** Where a short-lived record lives in the store (the API bench reads access tokens by it). */
export const storeKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (grantId: string) => `oidc:grant:${grantId}`;
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

export function createAdapterFactory(deps: AdapterDeps) {
  const { db, store, clock } = deps;
  const rotation = createRefreshRotation({ db, clock, graceSeconds: deps.refreshGraceSeconds });

  async function heldAsAccessToken(id: string): Promise<boolean> {
    const held = await Promise.all([...ACCESS_MODELS].map((model) => store.get(storeKey(model, id))));
    return held.some(Boolean);
  }

  /** Everything issued under a grant, in both stores. Used when a single-use record is replayed. */
  async function revokeGrant(grantId: string) {
    const members = await store.sMembers(grantKey(grantId));
    await Promise.all([
      store.del(...members, grantKey(grantId)),
      db.delete(oidcPayloads).where(eq(oidcPayloads.grantId, grantId)),
      db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, 'Grant'), eq(oidcPayloads.id, grantId))),
    ]);
  }

  class PgAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const row = {
        model: this.model,
        id,
        payload: payload as Record<string, unknown>,
        grantId: payload.grantId ?? null,
        uid: payload.uid ?? null,
        expiresAt,
      };
      if (this.model === 'RefreshToken') return rotation.save(id, row);
      await db
        .insert(oidcPayloads)
        .values(row)
        .onConflictDoUpdate({
          target: [oidcPayloads.model, oidcPayloads.id],
          set: { payload: row.payload, grantId: row.grantId, uid: row.uid, expiresAt },
        });
    }

    private async findWhere(where: ReturnType<typeof and>) {
      const [row] = await db
        .select({
          payload: oidcPayloads.payload,
          consumedAt: oidcPayloads.consumedAt,
          reissues: oidcPayloads.reissues,
          chainId: oidcPayloads.chainId,
          grantId: oidcPayloads.grantId,
        })
        .from(oidcPayloads)
        .where(and(where, sql`(${oidcPayloads.expiresAt} IS NULL OR ${oidcPayloads.expiresAt} > now())`))
        .limit(1);
      if (!row) return undefined;
      const payload = { ...row.payload } as AdapterPayload;
      // A refresh retried within the grace period goes on to consume(), which decides atomically.
      if (row.consumedAt && !(this.model === 'RefreshToken' && rotation.mayRetry(row)))
        payload.consumed = epoch(row.consumedAt);
      return payload;
    }

    async find(id: string) {
      // A refresh token of the shorter length was issued before they had a length of their own (or
      // this is another token): one the store holds as an access or client-credentials token is not
      // looked for in PostgreSQL.
      if (this.model === 'RefreshToken' && id.length !== REFRESH_TOKEN_LENGTH && (await heldAsAccessToken(id)))
        return undefined;
      return this.findWhere(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, id)));
    }
    findByUid(uid: string) {
      return this.findWhere(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.uid, uid)));
    }
    async findByUserCode() {
      return undefined;
    }

    async consume(id: string) {
      if (this.model === 'RefreshToken') {
        if ((await rotation.consume(id)) || (await rotation.reissue(id))) return;
        return this.reused(id);
      }
      // Atomic: only one of two parallel refreshes with the same token wins (habit 7).
      const rows = await db
        .update(oidcPayloads)
        .set({ consumedAt: new Date(clock.now()) })
        .where(
          and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, id), sql`${oidcPayloads.consumedAt} IS NULL`),
        )
        .returning({ grantId: oidcPayloads.grantId });
      if (rows.length === 0) return this.reused(id);
    }

    /** A single-use record presented again: everything issued under its grant goes. */
    private async reused(id: string): Promise<never> {
      const [row] = await db
        .select({ grantId: oidcPayloads.grantId })
        .from(oidcPayloads)
        .where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, id)));
      if (row?.grantId) await revokeGrant(row.grantId);
      throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    }

    async destroy(id: string) {
      await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, id)));
    }

    async revokeByGrantId(grantId: string) {
      await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.grantId, grantId)));
    }
  }

  class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const key = storeKey(this.model, id);
      const ttl = expiresIn || 3600;
      if (payload.grantId) await store.setIndexed(key, JSON.stringify(payload), ttl, grantKey(payload.grantId));
      else await store.set(key, JSON.stringify(payload), ttl);
    }

    async find(id: string) {
      if (ACCESS_MODELS.has(this.model) && id.length === REFRESH_TOKEN_LENGTH) return undefined;
      const key = storeKey(this.model, id);
      if (!CONSUMABLE.has(this.model)) {
        const raw = await store.get(key);
        return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
      }
      const [raw, consumed] = await Promise.all([store.get(key), store.get(`${key}:consumed`)]);
      if (!raw) return undefined;
      const payload = JSON.parse(raw) as AdapterPayload;
      if (consumed) payload.consumed = Number(consumed);
      return payload;
    }

    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }

    async consume(id: string) {
      const key = storeKey(this.model, id);
      const raw = await store.get(key);
      const payload = raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
      const ttl = payload?.exp ? Math.max(1, payload.exp - epoch(new Date())) : 600;
      // SET NX is the atomic single-use check: two parallel redemptions of one code, one wins.
      const won = await store.setIfAbsent(`${key}:consumed`, String(epoch(new Date())), ttl);
      if (!won) {
        if (payload?.grantId) await revokeGrant(payload.grantId);
        throw new errors.InvalidGrant('authorization code already consumed');
      }
    }

    async destroy(id: string) {
      const key = storeKey(this.model, id);
      await store.del(key, `${key}:consumed`);
    }

    async revokeByGrantId(grantId: string) {
      const members = await store.sMembers(grantKey(grantId));
      const mine = members.filter((m) => m.startsWith(`oidc:${this.model}:`));
      if (mine.length) await store.del(...mine);
    }
  }

  class ClientAdapter implements Adapter {
    async find(id: string) {
      return deps.findClient(id);
    }
    async upsert() {
      throw new Error('clients are managed through the Applications page or the CLI');
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume() {}
    async destroy() {}
    async revokeByGrantId() {}
  }

  return function adapterFor(name: string): Adapter {
    if (name === 'Client') return new ClientAdapter();
    return LONG_LIVED_MODELS.has(name) ? new PgAdapter(name) : new StoreAdapter(name);
  };
}

/** Deletes expired oidc rows in batches so a large backlog never holds a long lock. */
export async function deleteExpiredPayloads(db: Db, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.execute(
      sql`DELETE FROM oidc_payloads WHERE (model, id) IN (SELECT model, id FROM oidc_payloads WHERE expires_at < now() LIMIT ${batch}) RETURNING id`,
    );
    const n = rowCount(rows);
    total += n;
    if (n < batch) return total;
  }
}
