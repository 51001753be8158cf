// Which signing keys are published, in which order (the provider signs with the first of an alg).
import { describe, it, expect } from 'vitest';
import { orderKeys, type StoredKey } from '../../src/oidc/keys.ts';

const key = (
  kid: string,
  alg: string,
  createdAt: string,
  retired?: { at: string; removeAfter: string },
): StoredKey => ({
  jwk: { kid, alg, use: 'sig', kty: alg === 'RS256' ? 'RSA' : 'EC' },
  createdAt,
  ...(retired ? { retiredAt: retired.at, removeAfter: retired.removeAfter } : {}),
});
const now = Date.parse('2026-06-01T00:00:00Z');
const kids = (ks: StoredKey[]) => ks.map((k) => k.jwk.kid);

describe('orderKeys', () => {
  it('active keys first, newest first; then retired ones, newest first', () => {
    const keys = [
      key('rs-old', 'RS256', '2026-01-01T00:00:00Z', {
        at: '2026-05-30T00:00:00Z',
        removeAfter: '2026-06-06T00:00:00Z',
      }),
      key('es-new', 'ES256', '2026-05-30T00:00:00Z'),
      key('es-old', 'ES256', '2025-12-01T00:00:00Z', {
        at: '2026-05-30T00:00:00Z',
        removeAfter: '2026-06-06T00:00:00Z',
      }),
      key('rs-new', 'RS256', '2026-05-30T00:00:01Z'),
    ];
    expect(kids(orderKeys(keys, now))).toEqual(['rs-new', 'es-new', 'rs-old', 'es-old']);
  });
  it('a retired key newer than an active one still comes after it (the provider must not sign with it)', () => {
    const keys = [
      key('retired-newer', 'RS256', '2026-05-31T00:00:00Z', {
        at: '2026-05-31T01:00:00Z',
        removeAfter: '2026-06-07T00:00:00Z',
      }),
      key('active-older', 'RS256', '2026-01-01T00:00:00Z'),
    ];
    expect(kids(orderKeys(keys, now))).toEqual(['active-older', 'retired-newer']);
  });
  it('retired keys past their grace period are no longer published; exactly at removeAfter counts as past', () => {
    const keys = [
      key('gone', 'RS256', '2025-01-01T00:00:00Z', { at: '2026-05-01T00:00:00Z', removeAfter: '2026-05-31T23:59:59Z' }),
      key('just-gone', 'RS256', '2025-02-01T00:00:00Z', {
        at: '2026-05-01T00:00:00Z',
        removeAfter: '2026-06-01T00:00:00Z',
      }),
      key('kept', 'RS256', '2025-03-01T00:00:00Z', { at: '2026-05-01T00:00:00Z', removeAfter: '2026-06-01T00:00:01Z' }),
      key('active', 'RS256', '2026-05-01T00:00:00Z'),
    ];
    expect(kids(orderKeys(keys, now))).toEqual(['active', 'kept']);
  });
  it('does not reorder the array it was given', () => {
    const keys = [key('b', 'RS256', '2026-01-01T00:00:00Z'), key('a', 'RS256', '2026-02-01T00:00:00Z')];
    orderKeys(keys, now);
    expect(kids(keys)).toEqual(['b', 'a']);
  });
});
