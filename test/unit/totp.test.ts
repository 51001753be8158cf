// RFC 6238 codes: the reference test vectors, and the ±1 step window of §5.2.
import { describe, it, expect } from 'vitest';
import { generateSync } from 'otplib';
import { matchTotpStep, normalizeCode } from '../../src/factors/totp.ts';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII "12345678901234567890" (base32 below); the
// 8-digit codes there, cut to the 6 digits apps use (RFC 4226 §5.3: the low-order digits).
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: Array<[seconds: number, code: string]> = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
];
const at = (secret: string, seconds: number) =>
  generateSync({ secret, epoch: seconds, period: 30, digits: 6, algorithm: 'sha1' });

describe('matchTotpStep', () => {
  it('accepts the RFC 6238 test vectors (leading zeros included) and names their time step', async () => {
    for (const [t, code] of VECTORS)
      expect(await matchTotpStep(RFC_SECRET, code, t * 1000), `T=${t}`).toBe(Math.floor(t / 30));
  });
  it("one step either side is accepted (network delay, clock drift): the code's own step is returned", async () => {
    const now = 1_800_000_015_000; // 15 s into step 60_000_000
    const step = Math.floor(now / 30_000);
    for (const d of [-1, 0, 1])
      expect(await matchTotpStep(RFC_SECRET, at(RFC_SECRET, (step + d) * 30 + 5), now), `step ${d}`).toBe(step + d);
  });
  it('two steps away is refused, on either side, even at the very edge of the current step', async () => {
    for (const now of [1_800_000_000_000, 1_800_000_029_999]) {
      const step = Math.floor(now / 30_000);
      expect(await matchTotpStep(RFC_SECRET, at(RFC_SECRET, (step - 2) * 30), now)).toBeUndefined();
      expect(await matchTotpStep(RFC_SECRET, at(RFC_SECRET, (step + 2) * 30), now)).toBeUndefined();
    }
  });
  it("refuses another secret's code, and anything that is not exactly six digits", async () => {
    const now = 1_234_567_890_000;
    expect(await matchTotpStep('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', '005924', now)).toBeUndefined();
    for (const code of ['05924', '0005924', '005 924', '005924 ', 'OO5924', '', '+05924', '5924.0'])
      expect(await matchTotpStep(RFC_SECRET, code, now), JSON.stringify(code)).toBeUndefined();
  });
  it('normalizeCode drops the spaces and dashes people type, nothing else', () => {
    expect(normalizeCode(' 005 924 ')).toBe('005924');
    expect(normalizeCode('005-924')).toBe('005924');
    expect(normalizeCode(undefined)).toBe('');
    expect(normalizeCode('00a924')).toBe('00a924');
  });
});
