// Refresh-token rotation under the interleavings HTTP tests cannot force: the adapter oidc-provider
// calls, inside the request context it runs in (its AsyncLocalStorage), on the real database. A slow
// original request must not undo its own retry, and the cleanup must never let a thief's rotations
// erase the evidence of reuse.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
// oidc-provider's request context (Provider.ctx reads it): internal, as in src/oidc/refresh-rotation.ts.
import als from 'oidc-provider/lib/helpers/als.js';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { startServer, storageModes, type TestServer } from './helpers/server.ts';
import { createAdapterFactory } from '../src/oidc/adapter.ts';
import { runCleanup } from '../src/maintenance/cleanup.ts';
import { testClock } from './helpers/clock.ts';

describe.each(storageModes())('refresh rotation races (%s storage)', (mode) => {
  let srv: TestServer;
  let tokens: Adapter;
  let grants: Adapter;
  beforeAll(async () => {
    srv = await startServer({ mode });
    const adapterFor = createAdapterFactory({
      db: srv.deps.database.db,
      store: srv.deps.store,
      findClient: async () => undefined,
      clock: testClock,
      refreshGraceSeconds: 30,
    });
    tokens = adapterFor('RefreshToken');
    grants = adapterFor('Grant');
  });
  afterAll(async () => {
    await srv?.stop();
  });

  /** One token-endpoint request of the refresh_token grant, rotating `parent`. */
  const refreshRequest = (parent?: string) => ({
    oidc: {
      route: 'token',
      params: { grant_type: 'refresh_token' },
      entities: parent ? { RotatedRefreshToken: { jti: parent } } : {},
    },
  });
  /** Runs `fn` inside `request` (a new one by default), as oidc-provider does. */
  const inRefresh = <T>(parent: string | undefined, fn: () => Promise<T>, request = refreshRequest(parent)) =>
    als.run(request, fn);
  async function newGrant() {
    const grantId = `grant-${crypto.randomUUID()}`;
    await grants.upsert(grantId, { jti: grantId, kind: 'Grant' } as AdapterPayload, 3600);
    const payload = (jti: string) =>
      ({ jti, grantId, kind: 'RefreshToken', exp: Math.floor(testClock.now() / 1000) + 3600 }) as AdapterPayload;
    return { grantId, payload };
  }
  /** What oidc-provider does on one refresh: consume the token, save its successor. */
  const rotate = (from: string, to: string, payload: (jti: string) => AdapterPayload) =>
    inRefresh(from, async () => {
      await tokens.consume(from);
      await tokens.upsert(to, payload(to), 3600);
    });
  const live = async (id: string) => {
    const found = await inRefresh(undefined, () => tokens.find(id));
    return !!found && found.consumed === undefined;
  };

  it('refresh.slow-original-does-not-supersede-retry: a retry overtakes its own slow first try; the token the client got stays live', async () => {
    const { payload } = await newGrant();
    const [a, b, c] = ['A', 'B', 'C'].map((n) => `${n}-${crypto.randomUUID()}`) as [string, string, string];
    await tokens.upsert(a, payload(a), 3600);
    // First try: consumes A, then stalls before saving its successor B; the client gives up.
    const first = refreshRequest(a);
    await inRefresh(a, () => tokens.consume(a), first);
    // The retry: A is within the grace, so it re-issues; the client receives C.
    expect(await inRefresh(undefined, () => tokens.find(a))).toBeDefined();
    await rotate(a, c, payload);
    // The first try finally saves B (its answer goes nowhere).
    await inRefresh(a, () => tokens.upsert(b, payload(b), 3600), first);
    expect(await live(c)).toBe(true);
    expect(await live(b)).toBe(false);
    // The client goes on with C.
    const d = `D-${crypto.randomUUID()}`;
    await rotate(c, d, payload);
    expect(await live(d)).toBe(true);
  });

  it("refresh.replay-after-successor-used-on-a-slower-clock-revokes: lineage follows the order of use, not the nodes' clocks", async () => {
    // A second node whose clock is 3 s behind.
    const behind = createAdapterFactory({
      db: srv.deps.database.db,
      store: srv.deps.store,
      findClient: async () => undefined,
      clock: { now: () => testClock.now() - 3000 },
      refreshGraceSeconds: 30,
    })('RefreshToken');
    const { payload } = await newGrant();
    const [a, b, c] = ['A', 'B', 'C'].map((n) => `${n}-${crypto.randomUUID()}`) as [string, string, string];
    await tokens.upsert(a, payload(a), 3600);
    await rotate(a, b, payload);
    // The client uses B on the slow node: B's consumed_at is earlier than A's by that node's clock.
    await inRefresh(b, async () => {
      await behind.consume(b);
      await behind.upsert(c, payload(c), 3600);
    });
    // A replay of A now is reuse: B, its successor, was used after it.
    await expect(inRefresh(a, () => tokens.consume(a))).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await live(c)).toBe(false);
  });

  it('cleanup.reuse-detection-survives-rotations: a thief rotating a stolen token many times cannot get the original deleted', async () => {
    const { grantId, payload } = await newGrant();
    const stolen = `T0-${crypto.randomUUID()}`;
    await tokens.upsert(stolen, payload(stolen), 3600);
    let current = stolen;
    for (let i = 1; i <= 30; i++) {
      const next = `T${i}-${crypto.randomUUID()}`;
      await rotate(current, next, payload);
      current = next;
    }
    // Long after the grace period, a cleanup round runs…
    await srv.deps.database.db.execute(
      sql`UPDATE oidc_payloads SET consumed_at = consumed_at - interval '1 hour' WHERE model = 'RefreshToken' AND grant_id = ${grantId} AND consumed_at IS NOT NULL`,
    );
    testClock.advance(3600_000);
    expect((await runCleanup({ ...srv.deps, config: srv.config })).skipped).toBe(false);
    // …and the owner's copy of the first token is still known: presenting it revokes the grant.
    const found = await inRefresh(undefined, () => tokens.find(stolen));
    expect(found?.consumed).toBeDefined();
    await expect(inRefresh(undefined, () => tokens.consume(stolen))).rejects.toMatchObject({
      error: 'invalid_grant',
      error_detail: 'refresh token already used',
    });
    expect(await live(current)).toBe(false);
  });
});
