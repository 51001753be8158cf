// The deployment's one key set, in the database: each private JWK encrypted with ENCRYPTION_KEY
// (AES-GCM, its kid as associated data, so a blob cannot be swapped for another secret or another
// key's row). The first node to start on an empty table makes the set (or imports KEYS_DIR, where
// keys used to live) under an advisory lock, so nodes starting together end with one set.
import fs from 'node:fs';
import path from 'node:path';
import { encrypt, decrypt } from '../lib/crypto.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { SigningKeyRow } from '../db/schema.ts';
import type { SigningKeysRepo, createSigningKeysRepo } from '../db/repositories/signing-keys.ts';
import {
  ALGS,
  newKey,
  isRemovable,
  missingAlgs,
  planRotation,
  publishedKeys,
  type SigningKey,
  type PrivateJwk,
} from './keys.ts';

/** The store channel on which a change to the key set is announced to every node. */
export const KEYS_CHANGED_CHANNEL = 'signing-keys-changed';

/** A key set this node cannot use: it stops the start with this message (exit 2). */
export class SigningKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeysError';
  }
}

const aadFor = (kid: string) => `sesame/signing-key/v1:${kid}`;

/** A key file as `sesame keys generate` wrote it into KEYS_DIR before the keys moved to the database. */
interface KeyFile {
  jwk: PrivateJwk;
  createdAt: string;
  retiredAt?: string;
  removeAfter?: string;
}

function readKeyFiles(dir: string): SigningKey[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      let file: KeyFile;
      try {
        file = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as KeyFile;
      } catch {
        file = {} as KeyFile;
      }
      const { jwk } = file;
      if (!jwk?.kid || !jwk.alg || !(jwk.d || jwk.priv) || Number.isNaN(Date.parse(file.createdAt)))
        throw new SigningKeysError(`${path.join(dir, f)} is not a Sesame signing key file (KEYS_DIR import)`);
      const createdAt = new Date(file.createdAt);
      const date = (s?: string) => (s ? new Date(s) : null);
      // It was signing already: active since it was made.
      const { kid, alg } = jwk;
      return {
        kid,
        alg,
        jwk,
        createdAt,
        activatesAt: createdAt,
        retiredAt: date(file.retiredAt),
        removeAfter: date(file.removeAfter),
      };
    });
}

export interface SigningKeySetDeps {
  repo: ReturnType<typeof createSigningKeysRepo>;
  encryptionKey: Buffer;
  /** Read once, as an import source, when the table is empty. */
  keysDir: string;
  /** Announces a rotation to every node (they re-read at once; without it, within an interval). */
  store: Pick<Store, 'publish'>;
  logger: Logger;
}

export function createSigningKeySet({ repo, encryptionKey, keysDir, store, logger }: SigningKeySetDeps) {
  const seal = (k: SigningKey): SigningKeyRow => ({
    kid: k.kid,
    alg: k.alg,
    privateJwk: encrypt(encryptionKey, JSON.stringify(k.jwk), aadFor(k.kid)),
    createdAt: k.createdAt,
    activatesAt: k.activatesAt,
    retiredAt: k.retiredAt,
    removeAfter: k.removeAfter,
  });
  const open = (row: SigningKeyRow): SigningKey => {
    let jwk: PrivateJwk;
    try {
      jwk = JSON.parse(decrypt(encryptionKey, row.privateJwk, aadFor(row.kid))) as PrivateJwk;
    } catch {
      throw new SigningKeysError(
        `signing key ${row.kid} cannot be decrypted with this ENCRYPTION_KEY: every node and the command line need the ENCRYPTION_KEY the key set was made with`,
      );
    }
    const { kid, alg, createdAt, activatesAt, retiredAt, removeAfter } = row;
    return { kid, alg, jwk, createdAt, activatesAt, retiredAt, removeAfter };
  };
  const loadFrom = async (r: SigningKeysRepo) => (await r.all()).map(open);

  /** Makes the set complete (under the lock): imports KEYS_DIR into an empty table, then adds a key
   *  for every alg that has none still meant to sign. */
  async function complete(r: SigningKeysRepo, now: number) {
    let keys = await loadFrom(r);
    let imported: string[] = [];
    if (!keys.length) {
      const files = readKeyFiles(keysDir).filter((k) => !isRemovable(k, now));
      await r.insert(files.map(seal));
      keys = files;
      imported = files.map((k) => k.kid);
    }
    const made = await Promise.all(missingAlgs(keys, now).map((alg) => newKey(alg, new Date(now))));
    await r.insert(made.map(seal));
    return { keys: [...keys, ...made], imported, created: made.map((k) => k.kid) };
  }

  return {
    /** The key set, made complete first: what a node starts with, and `sesame keys generate`. */
    async ensure(now = Date.now()) {
      const result = await repo.locked((r) => complete(r, now));
      const { imported, created } = result;
      if (imported.length)
        logger.warn(
          { imported, dir: keysDir },
          'signing keys imported from KEYS_DIR into the database; the key files are no longer read (keep them offline as a backup, or delete them)',
        );
      if (created.length) logger.info({ created }, 'signing keys created');
      return result;
    },
    /** Every key as stored (a node's refresh). */
    load: () => loadFrom(repo),
    deleteRemovable: (now: number) => repo.deleteRemovable(new Date(now)),
    /** Adds a new key per alg that signs from `activateInSeconds` on; retires the current ones then
     *  (they stay published for the grace period after it); deletes keys past their grace period. */
    async rotate(activateInSeconds: number, now = Date.now()) {
      const rotated = await repo.locked(async (r) => {
        const { keys } = await complete(r, now);
        const plan = planRotation(keys, now, activateInSeconds);
        const removed = await r.deleteRemovable(new Date(now));
        const retired = await r.retire(plan.retire, plan.activatesAt, plan.removeAfter);
        const added = await Promise.all(ALGS.map(({ alg }) => newKey(alg, new Date(now), plan.activatesAt)));
        await r.insert(added.map(seal));
        const after = await loadFrom(r);
        return {
          added: added.map((k) => k.kid),
          retired,
          removed,
          activates_at: plan.activatesAt.toISOString(),
          published: publishedKeys(after, now).map((k) => k.kid),
        };
      });
      await store.publish(KEYS_CHANGED_CHANNEL, 'rotated').catch((err: unknown) => {
        logger.warn({ err }, `rotation not announced: nodes see it within their refresh interval`);
      });
      return rotated;
    },
  };
}
export type SigningKeySet = ReturnType<typeof createSigningKeySet>;
