// Personal API tokens as people see them: `sesame_pat_` + 43 base62 characters (256 random bits)
// + 6 base62 characters of CRC-32 over the rest. The prefix lets secret scanners (GitHub's, GitLab's,
// trufflehog) recognise a leaked token, and the checksum lets them — and us — tell a token from a
// typo without a lookup. Stored only as HMAC-SHA-256 with the server's key (hashApiToken): a fast
// keyed hash, looked up by a unique index; never a slow password hash (every API call checks one).
import crypto from 'node:crypto';
import { hmac } from '../lib/crypto.ts';

export const API_TOKEN_PREFIX = 'sesame_pat_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const SHAPE = new RegExp(`^${API_TOKEN_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(n: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

/** CRC-32 (IEEE) of the prefix and body, as 6 base62 characters (62^6 > 2^32). */
function checksum(text: string): string {
  return base62(BigInt(crc32(Buffer.from(text, 'utf8'))), CHECKSUM_LENGTH);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A new token: 256 bits from the CSPRNG (43 base62 digits hold 256.1 bits). */
export function newApiToken(): string {
  const body = base62(BigInt(`0x${crypto.randomBytes(32).toString('hex')}`), BODY_LENGTH);
  const head = `${API_TOKEN_PREFIX}${body}`;
  return `${head}${checksum(head)}`;
}

/** Whether a string has the shape and checksum of a personal API token (no lookup). */
export function looksLikeApiToken(token: string): boolean {
  if (!SHAPE.test(token)) return false;
  const head = token.slice(0, -CHECKSUM_LENGTH);
  return checksum(head) === token.slice(-CHECKSUM_LENGTH);
}

export function hashApiToken(hashKey: Buffer, token: string): string {
  return `hmac-sha256:${hmac(hashKey, `api-token:${token}`)}`;
}
