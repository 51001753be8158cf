// Which signing keys are published, in which order, and which one signs (the provider signs with
// the first of an alg), at an injected time; and how a node follows the stored set.
import { describe, it, expect } from 'vitest';
import {
  publishedKeys,
  signerFor,
  keyState,
  missingAlgs,
  planRotation,
  nextChange,
  RETIRED_KEY_GRACE_SECONDS,
  type SigningKey,
} from '../../src/oidc/keys.ts';
import { watchSigningKeys } from '../../src/oidc/key-refresh.ts';
import { createLogger } from '../../src/lib/logger.ts';

const at = (iso: string) => new Date(iso);
const key = (
  kid: string,
  alg: string,
  activatesAt: string,
  retired?: { at: string; removeAfter: string },
  createdAt = activatesAt,
): SigningKey => ({
  kid,
  alg,
  jwk: { kid, alg, use: 'sig', kty: alg === 'RS256' ? 'RSA' : 'EC' },
  createdAt: at(createdAt),
  activatesAt: at(activatesAt),
  retiredAt: retired ? at(retired.at) : null,
  removeAfter: retired ? at(retired.removeAfter) : null,
});
const now = Date.parse('2026-06-01T00:00:00Z');
const kids = (ks: SigningKey[]) => ks.map((k) => k.kid);

/** A rotation at 2026-05-31T23:59:00Z whose new keys activate at 2026-06-01T00:00:02Z. */
const rotation = () => {
  const retired = { at: '2026-06-01T00:00:02Z', removeAfter: '2026-06-08T00:00:02Z' };
  return [
    key('rs-old', 'RS256', '2026-01-01T00:00:00Z', retired),
    key('es-old', 'ES256', '2026-01-01T00:00:00Z', retired),
    key('rs-new', 'RS256', '2026-06-01T00:00:02Z', undefined, '2026-05-31T23:59:00Z'),
    key('es-new', 'ES256', '2026-06-01T00:00:02Z', undefined, '2026-05-31T23:59:00Z'),
  ];
};

describe('publishedKeys', () => {
  it('keys.pending-published-not-signing: a rotated-in key is published at once but the old one signs until it activates', () => {
    const keys = rotation();
    expect(kids(publishedKeys(keys, now))).toEqual(['rs-old', 'es-old', 'rs-new', 'es-new']);
    expect(signerFor(keys, 'RS256', now)?.kid).toBe('rs-old');
    expect(keys.map((k) => keyState(k, keys, now))).toEqual(['active', 'active', 'pending', 'pending']);
  });
  it('keys.activation-by-time: at activatesAt (exactly) the new key signs and comes first; the old one stays published', () => {
    const keys = rotation();
    const t = Date.parse('2026-06-01T00:00:02Z');
    expect(kids(publishedKeys(keys, t - 1))).toEqual(['rs-old', 'es-old', 'rs-new', 'es-new']);
    expect(kids(publishedKeys(keys, t))).toEqual(['rs-new', 'es-new', 'rs-old', 'es-old']);
    expect(keys.map((k) => keyState(k, keys, t))).toEqual(['retired', 'retired', 'active', 'active']);
  });
  it('a retired key newer than an active one still comes after it (the provider must not sign with it)', () => {
    const keys = [
      key('retired-newer', 'RS256', '2026-05-31T00:00:00Z', {
        at: '2026-05-31T01:00:00Z',
        removeAfter: '2026-06-07T00:00:00Z',
      }),
      key('active-older', 'RS256', '2026-01-01T00:00:00Z'),
    ];
    expect(kids(publishedKeys(keys, now))).toEqual(['active-older', 'retired-newer']);
  });
  it('keys.removal-after-grace: retired keys past their grace period are no longer published; exactly at removeAfter counts as past', () => {
    const keys = [
      key('gone', 'RS256', '2025-01-01T00:00:00Z', { at: '2026-05-01T00:00:00Z', removeAfter: '2026-05-31T23:59:59Z' }),
      key('just-gone', 'RS256', '2025-02-01T00:00:00Z', {
        at: '2026-05-01T00:00:00Z',
        removeAfter: '2026-06-01T00:00:00Z',
      }),
      key('kept', 'RS256', '2025-03-01T00:00:00Z', { at: '2026-05-01T00:00:00Z', removeAfter: '2026-06-01T00:00:01Z' }),
      key('active', 'RS256', '2026-05-01T00:00:00Z'),
    ];
    expect(kids(publishedKeys(keys, now))).toEqual(['active', 'kept']);
  });
  it('a set edited by hand still has a signer per alg: the newest activated, else the first to activate', () => {
    const allRetired = [
      key('a', 'RS256', '2026-01-01T00:00:00Z', { at: '2026-02-01T00:00:00Z', removeAfter: '2026-07-01T00:00:00Z' }),
      key('b', 'RS256', '2026-03-01T00:00:00Z', { at: '2026-04-01T00:00:00Z', removeAfter: '2026-07-01T00:00:00Z' }),
    ];
    expect(signerFor(allRetired, 'RS256', now)?.kid).toBe('b');
    const allPending = [key('later', 'ES256', '2026-07-01T00:00:00Z'), key('sooner', 'ES256', '2026-06-02T00:00:00Z')];
    expect(signerFor(allPending, 'ES256', now)?.kid).toBe('sooner');
  });
  it('does not reorder the array it was given', () => {
    const keys = [key('b', 'RS256', '2026-01-01T00:00:00Z'), key('a', 'RS256', '2026-02-01T00:00:00Z')];
    publishedKeys(keys, now);
    expect(kids(keys)).toEqual(['b', 'a']);
  });
});

describe('missingAlgs and planRotation', () => {
  it('a set is complete with one unretired key per alg; a retired or removed one does not count', () => {
    expect(missingAlgs([], now)).toEqual(['RS256', 'ES256']);
    expect(missingAlgs(rotation(), now)).toEqual([]);
    expect(missingAlgs(rotation().slice(0, 3), now)).toEqual(['ES256']);
  });
  it('keys.rotation-plan: the current keys retire when the new ones activate and stay published a grace period after', () => {
    const keys = [
      ...rotation().slice(2),
      key('ancient', 'RS256', '2025-01-01T00:00:00Z', {
        at: '2025-02-01T00:00:00Z',
        removeAfter: '2025-02-08T00:00:00Z',
      }),
    ];
    const plan = planRotation(keys, now, 120);
    expect(plan.activatesAt.toISOString()).toBe('2026-06-01T00:02:00.000Z');
    expect(plan.retire).toEqual(['rs-new', 'es-new']);
    expect(plan.removeAfter.getTime() - plan.activatesAt.getTime()).toBe(RETIRED_KEY_GRACE_SECONDS * 1000);
    expect(plan.remove).toEqual(['ancient']);
  });
  it('nextChange: the next activation, retirement or removal after now', () => {
    expect(nextChange(rotation(), now)).toBe(Date.parse('2026-06-01T00:00:02Z'));
    expect(nextChange(rotation(), Date.parse('2026-06-01T00:00:02Z'))).toBe(Date.parse('2026-06-08T00:00:02Z'));
    expect(nextChange([key('a', 'RS256', '2026-01-01T00:00:00Z')], now)).toBeUndefined();
  });
});

describe('watchSigningKeys', () => {
  const logged: Array<{ level: number; msg: string }> = [];
  const logger = createLogger('info', { write: (line: string) => logged.push(JSON.parse(line)) });
  const complete = [key('rs', 'RS256', '2026-01-01T00:00:00Z'), key('es', 'ES256', '2026-01-01T00:00:00Z')];

  it('keys.refresh-failure-keeps-keys: a failed or incomplete read keeps the keys; a good one is applied, activation on time', async () => {
    let t = now;
    let stored: SigningKey[] | Error = new Error('connection terminated');
    const applied: string[][] = [];
    let deleted = 0;
    const watch = await watchSigningKeys({
      keySet: {
        load: async () => {
          if (stored instanceof Error) throw stored;
          return stored;
        },
        deleteRemovable: async () => {
          deleted++;
          return [];
        },
      },
      initial: complete,
      apply: (jwks) => applied.push(jwks.map((j) => j.kid)),
      store: { subscribe: async () => async () => {} },
      logger,
      refreshSeconds: 60,
      now: () => t,
    });
    try {
      await watch.refresh();
      expect(applied).toEqual([]);
      expect(logged.at(-1)?.msg).toMatch(/could not be read; keeping the current ones/);
      stored = [complete[0]!];
      await watch.refresh();
      expect(applied).toEqual([]);
      expect(logged.at(-1)?.msg).toMatch(/incomplete; keeping the current ones/);

      stored = [...complete, ...rotation().slice(2)];
      await watch.refresh();
      expect(applied).toEqual([['rs', 'es', 'rs-new', 'es-new']]);
      t = Date.parse('2026-06-01T00:00:02Z');
      await watch.refresh();
      expect(applied.at(-1)).toEqual(['rs-new', 'es-new', 'rs', 'es']);
      // Nothing changed: nothing applied again.
      await watch.refresh();
      expect(applied).toHaveLength(2);
      expect(deleted).toBe(0);
      stored = [
        ...stored,
        key('gone', 'RS256', '2025-01-01T00:00:00Z', {
          at: '2025-02-01T00:00:00Z',
          removeAfter: '2025-02-08T00:00:00Z',
        }),
      ];
      await watch.refresh();
      expect(deleted).toBe(1);
    } finally {
      await watch.stop();
    }
  });
});
