// What counts as multi-factor (RFC 8176 amr values) and the acr it earns.
import { describe, it, expect } from 'vitest';
import { isMultiFactor, acrFor } from '../../src/login/finish.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';

describe('isMultiFactor / acrFor', () => {
  it('the password plus any second factor Sesame has: app or backup code, security key, kAuth, SMS', () => {
    for (const amr of [
      ['pwd', 'otp'],
      ['pwd', 'hwk'],
      ['pwd', 'swk', 'mfa'],
      ['pwd', 'sms'],
      ['otp', 'pwd'],
    ]) {
      expect(isMultiFactor(amr), amr.join('+')).toBe(true);
      expect(acrFor(amr)).toBe(ACR_MFA);
    }
  });
  it('the password alone, or twice, is one factor', () => {
    for (const amr of [['pwd'], ['pwd', 'pwd']]) {
      expect(isMultiFactor(amr)).toBe(false);
      expect(acrFor(amr)).toBe(ACR_PASSWORD);
    }
  });
  it('"mfa" is a claim, not a factor: it does not make a password-only login multi-factor', () => {
    expect(isMultiFactor(['pwd', 'mfa'])).toBe(false);
  });
  it('values that are not a second factor here (user presence, PIN, knowledge) do not count', () => {
    for (const amr of [
      ['pwd', 'user'],
      ['pwd', 'pin'],
      ['pwd', 'kba'],
      ['pwd', 'OTP'],
    ])
      expect(isMultiFactor(amr), amr.join('+')).toBe(false);
  });
  it('a second factor without the password is not multi-factor (every login carries "pwd")', () => {
    for (const amr of [['otp'], ['hwk'], ['swk', 'mfa'], ['otp', 'sms'], []]) {
      expect(isMultiFactor(amr), amr.join('+')).toBe(false);
      expect(acrFor(amr)).toBe(ACR_PASSWORD);
    }
  });
});
