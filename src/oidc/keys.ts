// Which signing keys are published and which ones sign, from the key set and the time (pure: tests
// pass the time). RS256 (which every relying party supports) signs ID tokens by default; ES256 is
// offered too. A key is published from its creation, signs from `activatesAt`, stops at `retiredAt`
// and leaves the JWKS at `removeAfter`. oidc-provider signs with the first key of an alg in the
// JWKS, so each alg's signing key comes first. The set itself lives in the database
// (oidc/signing-keys.ts); every node recomputes this order on each refresh (oidc/key-refresh.ts).
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';

export type PrivateJwk = JWK & { kid: string; alg: string; use: 'sig' };

export interface SigningKey {
  kid: string;
  alg: string;
  jwk: PrivateJwk;
  createdAt: Date;
  activatesAt: Date;
  /** Set by a rotation to its successor's activatesAt; the key stays published until `removeAfter`. */
  retiredAt: Date | null;
  removeAfter: Date | null;
}

/** Longest lifetime of anything signed with a key: ID tokens (1 h), plus logouts using an expired
 *  id_token_hint. A week keeps RP-initiated logout working for ID tokens a week old. */
export const RETIRED_KEY_GRACE_SECONDS = 7 * 24 * 3600;
export const ALGS = [
  { alg: 'RS256', opts: { modulusLength: 2048 } },
  { alg: 'ES256', opts: {} },
] as const;

export async function newKey(alg: string, at: Date, activatesAt = at): Promise<SigningKey> {
  const { opts } = ALGS.find((a) => a.alg === alg) ?? { opts: {} };
  const { privateKey } = await generateKeyPair(alg, { ...opts, extractable: true });
  const exported = await exportJWK(privateKey);
  const kid = (await calculateJwkThumbprint(exported)).slice(0, 16) + '-' + crypto.randomBytes(3).toString('hex');
  const jwk: PrivateJwk = { ...exported, kid, alg, use: 'sig' };
  return { kid, alg, jwk, createdAt: at, activatesAt, retiredAt: null, removeAfter: null };
}

const ms = (d: Date | null) => (d ? d.getTime() : Infinity);
// RS256 before ES256 when times are equal; an alg Sesame does not make (>>> 0 turns -1 into 2³²-1) last.
const algRank = (k: SigningKey) => ALGS.findIndex((a) => a.alg === k.alg) >>> 0;
const newestFirst = (a: SigningKey, b: SigningKey) =>
  ms(b.activatesAt) - ms(a.activatesAt) ||
  ms(b.createdAt) - ms(a.createdAt) ||
  algRank(a) - algRank(b) ||
  a.kid.localeCompare(b.kid);

/** Past its grace period (exactly at removeAfter counts as past): no longer published, deleted. */
export function isRemovable(key: SigningKey, now: number): boolean {
  return ms(key.removeAfter) <= now;
}

/** The key that signs for `alg` at `now`: the newest activated one that is not retired. Should the
 *  rows say otherwise (edited by hand), the newest activated one, else the first to activate: a
 *  published key always signs rather than none. */
export function signerFor(keys: SigningKey[], alg: string, now: number): SigningKey | undefined {
  const mine = keys.filter((k) => k.alg === alg && !isRemovable(k, now));
  const activated = mine.filter((k) => ms(k.activatesAt) <= now).sort(newestFirst);
  return (
    activated.find((k) => ms(k.retiredAt) > now) ??
    activated[0] ??
    mine.sort((a, b) => ms(a.activatesAt) - ms(b.activatesAt))[0]
  );
}

/** The JWKS at `now`: each alg's signing key first, then every other key still published (pending
 *  ones, then retired ones), newest first. Does not reorder the array it was given. */
export function publishedKeys(keys: SigningKey[], now: number): SigningKey[] {
  const signers = ALGS.map(({ alg }) => signerFor(keys, alg, now)).filter((k) => k !== undefined);
  const rest = keys.filter((k) => !isRemovable(k, now) && !signers.includes(k)).sort(newestFirst);
  return [...signers, ...rest];
}

export type KeyState = 'pending' | 'active' | 'retired';

/** active: signs now; pending: published, signs from activatesAt; retired: published, signs no more. */
export function keyState(key: SigningKey, keys: SigningKey[], now: number): KeyState {
  if (signerFor(keys, key.alg, now) === key) return 'active';
  return ms(key.activatesAt) > now ? 'pending' : 'retired';
}

/** The algs without a key meant to go on signing (one not retired): a complete set has none. */
export function missingAlgs(keys: SigningKey[], now: number): string[] {
  return ALGS.map((a) => a.alg).filter(
    (alg) => !keys.some((k) => k.alg === alg && !k.retiredAt && !isRemovable(k, now)),
  );
}

/** What a rotation at `now` changes: new keys activate `activateInSeconds` later (time for every
 *  node to publish them first); until then the current ones sign, then they retire, and they stay
 *  published for the grace period after that. Keys past their grace period are deleted. */
export function planRotation(keys: SigningKey[], now: number, activateInSeconds: number) {
  const activatesAt = new Date(now + activateInSeconds * 1000);
  return {
    activatesAt,
    retire: keys.filter((k) => !k.retiredAt && !isRemovable(k, now)).map((k) => k.kid),
    removeAfter: new Date(activatesAt.getTime() + RETIRED_KEY_GRACE_SECONDS * 1000),
    remove: keys.filter((k) => isRemovable(k, now)).map((k) => k.kid),
  };
}

/** The next moment after `now` at which the published order changes (an activation, a retirement,
 *  a removal), if any. */
export function nextChange(keys: SigningKey[], now: number): number | undefined {
  const times = keys.flatMap((k) => [k.activatesAt, k.retiredAt, k.removeAfter]).map(ms);
  const future = times.filter((t) => t > now && t !== Infinity);
  return future.length ? Math.min(...future) : undefined;
}
