// Signing keys in the database (embedded storage: each server has a database of its own): the import
// of KEYS_DIR, encryption at rest, what a node does with keys it cannot open, the swap into a live
// provider, and a production first start. Several nodes: test/cluster.test.ts.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startServer, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, signInForIdToken } from './helpers/agent.ts';
import { startNode, waitFor } from './helpers/processes.ts';
import { newKey, publishedKeys, type SigningKey } from '../src/oidc/keys.ts';
import { replaceProviderKeys } from '../src/oidc/provider.ts';
import { signingKeys } from '../src/db/schema.ts';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const kidsOf = async (srv: { url: string }) =>
  ((await (await fetch(`${srv.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

/** A key file as `sesame keys generate` wrote it into KEYS_DIR before the keys moved to the database. */
function writeKeyFile(dir: string, key: SigningKey, retired?: { at: Date; removeAfter: Date }) {
  const file = {
    jwk: key.jwk,
    createdAt: key.createdAt.toISOString(),
    ...(retired ? { retiredAt: retired.at.toISOString(), removeAfter: retired.removeAfter.toISOString() } : {}),
  };
  fs.writeFileSync(path.join(dir, `${key.kid}.json`), JSON.stringify(file), { mode: 0o600 });
}

async function signIn(srv: TestServer) {
  const user = await createUser(srv);
  const web = await createClient(srv, { type: 'web' });
  return signInForIdToken(new Agent(srv.url), { ...web, email: user.email, password: user.password });
}

function logSink() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  return { lines, write: (line: string) => void lines.push(JSON.parse(line)) };
}

describe('signing keys', () => {
  it('keys.import-from-keys-dir: an existing deployment keeps its keys: KEYS_DIR is imported once, then no longer read', async () => {
    const dataDir = tmp('sesame-keys-');
    const keysDir = path.join(dataDir, 'keys');
    fs.mkdirSync(keysDir);
    const day = 86_400_000;
    const old = new Date(Date.now() - 30 * day);
    const [rs, es, retired, expired] = await Promise.all([
      newKey('RS256', old),
      newKey('ES256', old),
      newKey('RS256', new Date(Date.now() - 60 * day)),
      newKey('RS256', new Date(Date.now() - 90 * day)),
    ]);
    writeKeyFile(keysDir, rs!);
    writeKeyFile(keysDir, es!);
    writeKeyFile(keysDir, retired!, { at: old, removeAfter: new Date(Date.now() + day) });
    writeKeyFile(keysDir, expired!, { at: new Date(Date.now() - 60 * day), removeAfter: new Date(Date.now() - day) });
    const log = logSink();
    let srv = await startServer({ dataDir, keysDir, env: { LOG_LEVEL: 'info' }, logTo: log });
    const port = Number(new URL(srv.url).port);
    try {
      expect(await kidsOf(srv)).toEqual([rs!.kid, es!.kid, retired!.kid]);
      const imported = log.lines.find((l) => /imported from KEYS_DIR/.test(l.msg));
      expect(imported?.level).toBe(40);
      expect([...(imported?.imported as string[])].sort()).toEqual([rs!.kid, es!.kid, retired!.kid].sort());
      expect(log.lines.some((l) => /signing keys created/.test(l.msg))).toBe(false);
      // The imported key signs, as it did from its file.
      expect(decodeProtectedHeader(await signIn(srv)).kid).toBe(rs!.kid);
    } finally {
      await srv.stop();
    }
    // Files added later are not read: the database holds the key set.
    writeKeyFile(keysDir, await newKey('ES256', new Date()));
    srv = await startServer({ dataDir, keysDir, port });
    try {
      expect(await kidsOf(srv)).toEqual([rs!.kid, es!.kid, retired!.kid]);
    } finally {
      await srv.stop();
    }
  }, 150_000);

  it('keys.encrypted-at-rest: a stored key is unreadable without ENCRYPTION_KEY, bound to its row, and a node with another ENCRYPTION_KEY refuses to start', async () => {
    const dataDir = tmp('sesame-keys-');
    const log = logSink();
    const srv = await startServer({ dataDir, env: { LOG_LEVEL: 'info', KEYS_REFRESH_SECONDS: '1' }, logTo: log });
    const { db } = srv.deps.database;
    const published = await kidsOf(srv);
    try {
      const keys = await srv.deps.signingKeys.load();
      const rows = await db.select().from(signingKeys);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const key = keys.find((k) => k.kid === row.kid)!;
        expect(row.privateJwk).toMatch(/^v1\./);
        expect(row.privateJwk).not.toContain(key.jwk.d!);
      }
      // Each blob is bound to its kid: swapped between rows, neither opens.
      const [a, b] = rows;
      await db.update(signingKeys).set({ privateJwk: b!.privateJwk }).where(eq(signingKeys.kid, a!.kid));
      await db.update(signingKeys).set({ privateJwk: a!.privateJwk }).where(eq(signingKeys.kid, b!.kid));
      await expect(srv.deps.signingKeys.load()).rejects.toThrow(/cannot be decrypted with this ENCRYPTION_KEY/);
      // The running server keeps serving with the keys it has.
      await waitFor('a failed refresh', () => log.lines.some((l) => /could not be read; keeping/.test(l.msg)));
      expect(await kidsOf(srv)).toEqual(published);
      expect(published).toContain(decodeProtectedHeader(await signIn(srv)).kid);
      await db.update(signingKeys).set({ privateJwk: a!.privateJwk }).where(eq(signingKeys.kid, a!.kid));
      await db.update(signingKeys).set({ privateJwk: b!.privateJwk }).where(eq(signingKeys.kid, b!.kid));
    } finally {
      await srv.stop();
    }
    // Another ENCRYPTION_KEY cannot open the set: the node says so and stops, making no second set.
    const node = await startNode({
      env: { DATA_DIR: dataDir, KEYS_DIR: tmp('sesame-keys-'), ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex') },
      noWait: true,
    });
    expect((await node.exited()).code).toBe(2);
    expect(node.output()).toMatch(/cannot be decrypted with this ENCRYPTION_KEY: every node and the command line need/);
    expect(node.output()).not.toMatch(/\n\s+at /);
    const again = await startServer({ dataDir });
    try {
      expect(await kidsOf(again)).toEqual(published);
    } finally {
      await again.stop();
    }
  });

  it('keys.live-swap: the keys of a running provider can be replaced (guards the oidc-provider internal it uses)', async () => {
    const srv = await startServer();
    try {
      const before = await kidsOf(srv);
      const [rs, es] = await Promise.all([newKey('RS256', new Date()), newKey('ES256', new Date())]);
      const current = publishedKeys(await srv.deps.signingKeys.load(), Date.now()).map((k) => k.jwk);
      replaceProviderKeys(srv.deps.provider, [rs!.jwk, es!.jwk, ...current]);
      const hint =
        "oidc-provider's internal lib/helpers/initialize_keystore.js no longer replaces a live provider's keys: adapt replaceProviderKeys in src/oidc/provider.ts to this oidc-provider version";
      expect(await kidsOf(srv), hint).toEqual([rs!.kid, es!.kid, ...before]);
      const jwks = (await (await fetch(`${srv.url}/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
      expect(
        jwks.keys.some((k) => 'd' in k),
        'the JWKS must never hold private key parts',
      ).toBe(false);
      const idToken = await signIn(srv);
      expect(decodeProtectedHeader(idToken).kid, hint).toBe(rs!.kid);
      await jwtVerify(idToken, createRemoteJWKSet(new URL(`${srv.url}/jwks`)), { issuer: srv.url });
      const discovery = (await (await fetch(`${srv.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        string[]
      >;
      expect(discovery.id_token_signing_alg_values_supported, hint).toEqual(['RS256', 'ES256']);
    } finally {
      await srv.stop();
    }
  });

  it('keys.production-first-start: NODE_ENV=production makes the first key set itself (no manual step, one set per database)', async () => {
    const node = await startNode({
      env: {
        NODE_ENV: 'production',
        ISSUER: 'https://id.example',
        DATA_DIR: tmp('sesame-prod-'),
        KEYS_DIR: tmp('sesame-prod-keys-'),
        COOKIE_SECRETS: crypto.randomBytes(32).toString('base64url'),
        ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
        ALLOW_OUTBOX: 'true',
      },
      listenWithinMs: 90_000,
    });
    try {
      const jwks = (await (await fetch(`http://127.0.0.1:${node.port}/jwks`)).json()) as {
        keys: Array<{ alg: string }>;
      };
      expect(jwks.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
      expect(node.logs().find((l) => /signing keys created/.test(l.msg))).toBeTruthy();
    } finally {
      await node.stop();
    }
  }, 150_000);
});
