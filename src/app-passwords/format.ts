// App passwords as people see them: 16 characters in four groups of four ("abcd-efgh-jkmn-pqrs"),
// from 32 lowercase letters and digits that cannot be mistaken for one another on a phone keyboard or
// in a font (no l, o, 0, 1): 80 bits from the CSPRNG, far beyond online guessing behind the rate limits.
// Typed back in any case, with or without the dashes or spaces. Stored only as HMAC-SHA-256 with the
// server's key over the normalized form: a fast keyed hash (checked on every sync request), never a
// slow password hash.
import crypto from 'node:crypto';
import { hmac } from '../lib/crypto.ts';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const LENGTH = 16;
const GROUP = 4;
const SHAPE = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

/** A new app password, grouped for display. */
export function newAppPassword(): string {
  const bytes = crypto.randomBytes(LENGTH);
  // 256 is a multiple of 32: every byte maps to one character without bias.
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  const groups: string[] = [];
  for (let i = 0; i < LENGTH; i += GROUP) groups.push(chars.slice(i, i + GROUP));
  return groups.join('-');
}

/** The app password a typed string is (lowercase, without separators), or undefined when it cannot be
 *  one (then it may still be the account password: nothing is looked up for it as an app password). */
export function normalizeAppPassword(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const bare = typed.replace(/[\s-]/g, '').toLowerCase();
  return SHAPE.test(bare) ? bare : undefined;
}

export function hashAppPassword(hashKey: Buffer, normalized: string): string {
  return `hmac-sha256:${hmac(hashKey, `app-password:${normalized}`)}`;
}
