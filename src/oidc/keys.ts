// Private signing keys as JWK files in KEYS_DIR. RS256 (which every relying party supports) signs
// ID tokens by default; ES256 is offered too. oidc-provider signs with the first key of an alg in
// the JWKS, so the newest key comes first; retired keys stay published until what they signed has
// expired.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { Logger } from '../lib/logger.ts';

export interface StoredKey {
  jwk: JWK & { kid: string; alg: string; use: 'sig' };
  createdAt: string;
  /** Set when a newer key replaced this one; the key stays published until `removeAfter`. */
  retiredAt?: string;
  removeAfter?: string;
}

/** Longest lifetime of anything signed with a key: ID tokens (1 h), plus logouts using an expired
 *  id_token_hint. A week keeps RP-initiated logout working for ID tokens a week old. */
const RETIRED_KEY_GRACE_SECONDS = 7 * 24 * 3600;
const ALGS = [
  { alg: 'RS256', opts: { modulusLength: 2048 } },
  { alg: 'ES256', opts: {} },
] as const;

async function newKey(alg: string, opts: object): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(alg, { ...opts, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16) + '-' + crypto.randomBytes(3).toString('hex');
  return { jwk: { ...jwk, kid, alg, use: 'sig' }, createdAt: new Date().toISOString() };
}

function readKeys(dir: string): StoredKey[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as StoredKey)
    .filter((k) => k?.jwk?.kid && k.jwk.alg);
}

function writeKey(dir: string, key: StoredKey) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${key.createdAt.replace(/[:.]/g, '-')}-${key.jwk.alg}-${key.jwk.kid}.json`);
  fs.writeFileSync(file, JSON.stringify(key, null, 2), { mode: 0o600 });
}

/** Active keys first (newest first), then retired ones still within their grace period. */
export function orderKeys(keys: StoredKey[], now = Date.now()): StoredKey[] {
  return keys
    .filter((k) => !k.removeAfter || Date.parse(k.removeAfter) > now)
    .sort((a, b) => Number(!!a.retiredAt) - Number(!!b.retiredAt) || Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

export class MissingKeysError extends Error {
  constructor(dir: string) {
    super(
      `No signing keys in ${dir}. Run "sesame keys generate" once and give every node the same KEYS_DIR (a cluster must publish one key set).`,
    );
    this.name = 'MissingKeysError';
  }
}

/** The server's keys. Outside production the first set is generated when the folder has none (with
 *  a warning); in production that is refused: every node of a cluster must sign with the same keys,
 *  so they are generated once, on purpose, by `sesame keys generate`. */
export async function loadKeys(config: { env: string; keysDir: string }, logger: Logger): Promise<StoredKey[]> {
  const existing = orderKeys(readKeys(config.keysDir));
  const complete = ALGS.every(({ alg }) => existing.some((k) => k.jwk.alg === alg && !k.retiredAt));
  if (complete) return existing;
  if (config.env === 'production') throw new MissingKeysError(config.keysDir);
  const { keys, created } = await loadOrCreateKeys(config.keysDir);
  logger.warn(
    { created, dir: config.keysDir },
    'signing keys generated (in production, run "sesame keys generate" once instead)',
  );
  return keys;
}

/** Loads the keys, generating the first set when the folder has none of an alg. */
export async function loadOrCreateKeys(dir: string): Promise<{ keys: StoredKey[]; created: string[] }> {
  const existing = readKeys(dir);
  const created: string[] = [];
  for (const { alg, opts } of ALGS) {
    if (!existing.some((k) => k.jwk.alg === alg && !k.retiredAt)) {
      const k = await newKey(alg, opts);
      writeKey(dir, k);
      existing.push(k);
      created.push(k.jwk.kid);
    }
  }
  return { keys: orderKeys(existing), created };
}

/** Publishes a new key per alg; the previous ones are retired but kept in the JWKS for the grace
 *  period; keys past it are deleted. Running servers pick the new keys up on restart. */
export async function rotateKeys(dir: string, now = Date.now()) {
  const removed: string[] = [];
  const retired: string[] = [];
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith('.json')) : []) {
    const file = path.join(dir, f);
    const k = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredKey;
    if (k.removeAfter && Date.parse(k.removeAfter) <= now) {
      fs.rmSync(file);
      removed.push(k.jwk.kid);
      continue;
    }
    if (!k.retiredAt) {
      k.retiredAt = new Date(now).toISOString();
      k.removeAfter = new Date(now + RETIRED_KEY_GRACE_SECONDS * 1000).toISOString();
      fs.writeFileSync(file, JSON.stringify(k, null, 2), { mode: 0o600 });
      retired.push(k.jwk.kid);
    }
  }
  const added: string[] = [];
  for (const { alg, opts } of ALGS) {
    const k = await newKey(alg, opts);
    writeKey(dir, k);
    added.push(k.jwk.kid);
  }
  return { added, retired, removed, published: orderKeys(readKeys(dir), now).map((k) => k.jwk.kid) };
}
