// Small crypto helpers. Secrets Sesame generates (client secrets, email links) have 256 bits of
// entropy, so a fast keyed hash (HMAC-SHA-256) is the right store for them — never a slow password
// hash, which would cost tens of milliseconds on every token request.
import crypto from 'node:crypto';

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function hmac(key: Buffer, value: string): string {
  return crypto.createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

/** Constant-time string comparison that does not leak length through early exit. */
/** The shape of every token Sesame puts in a link (randomToken(32)): checked before any lookup. */
export function isLinkToken(token: unknown): token is string {
  return typeof token === 'string' && /^[\w-]{20,100}$/.test(token);
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

/** AES-256-GCM with a random 96-bit nonce; output "v1.<iv>.<tag>.<ciphertext>" in base64url. `aad`
 *  (not stored) binds the ciphertext to its purpose: decrypting needs the same string, so a value
 *  cannot be moved to a column or row it was not written for. */
export function encrypt(key: Buffer, plaintext: string, aad?: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join(
    '.',
  );
}

export function decrypt(key: Buffer, boxed: string, aad?: string): string {
  const [v, iv, tag, ct] = boxed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown ciphertext format');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
