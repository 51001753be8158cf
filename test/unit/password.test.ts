// The password policy: length, common passwords, the user's own details, variety.
import { describe, it, expect } from 'vitest';
import {
  checkPasswordPolicy,
  MIN_PASSWORD_LENGTH,
  MAX_PASSWORD_LENGTH,
  createPasswordFactor,
} from '../../src/factors/password.ts';

describe('checkPasswordPolicy', () => {
  it('the minimum and maximum lengths are inclusive', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(10);
    expect(checkPasswordPolicy('zq8!Rk2#Lm')).toBeUndefined();
    expect(checkPasswordPolicy('zq8!Rk2#L')).toBe('weak_password');
    const long = 'Tr0ub4dor&3-'.repeat(30);
    expect(checkPasswordPolicy(long.slice(0, MAX_PASSWORD_LENGTH))).toBeUndefined();
    expect(checkPasswordPolicy(long.slice(0, MAX_PASSWORD_LENGTH + 1))).toBe('weak_password');
  });
  it('common passwords are refused whatever their case', () => {
    expect(checkPasswordPolicy('password123')).toBe('common_password');
    expect(checkPasswordPolicy('PassWord123')).toBe('common_password');
    expect(checkPasswordPolicy('qwertyuiop')).toBe('common_password');
  });
  it("a password containing the user's email name or given name is as good as common", () => {
    expect(checkPasswordPolicy('ada.lovelace-1815', ['ada.lovelace', 'Ada', 'Lovelace'])).toBe('personal_password');
    expect(checkPasswordPolicy('my LOVELACE 1815!', ['ada', 'Ada', 'Lovelace'])).toBe('personal_password');
  });
  it('context words count from three characters, whatever their case; shorter or empty ones do not', () => {
    expect(checkPasswordPolicy('ZOE rides a 1815 engine', ['zoe@example.com', 'zoe', 'Zoe', ''])).toBe(
      'personal_password',
    );
    expect(checkPasswordPolicy('zoe@example.com1', ['zoe@example.com', 'zoe'])).toBe('personal_password');
    expect(checkPasswordPolicy('al rides a 1815 engine', ['al@example.com', 'al', 'Al', ''])).toBeUndefined();
  });
  it('fewer than four distinct characters is weak, however long', () => {
    expect(checkPasswordPolicy('aaaaaaaaaaaaaaaaaaaa')).toBe('weak_password');
    expect(checkPasswordPolicy('abcabcabcabcabc')).toBe('weak_password');
    expect(checkPasswordPolicy('abcdabcdabcd')).toBeUndefined();
  });
  it('a long passphrase of ordinary words passes', () => {
    expect(checkPasswordPolicy('correct horse battery staple 42')).toBeUndefined();
  });
});

describe('password factor verifications counter', () => {
  // Cheapest argon2id parameters the library accepts: these tests are about counting, not cost.
  const factor = createPasswordFactor({ memoryCost: 1024, timeCost: 2 });
  it('counts one real verification per hash checked, right or wrong, and one dummy when there is none', async () => {
    const hash = await factor.hash('correct horse battery staple 42');
    const before = { ...factor.verifications };
    expect((await factor.verify(hash, 'correct horse battery staple 42')).ok).toBe(true);
    expect((await factor.verify(hash, 'wrong')).ok).toBe(false);
    expect((await factor.verify(undefined, 'correct horse battery staple 42')).ok).toBe(false);
    expect({ real: factor.verifications.real - before.real, dummy: factor.verifications.dummy - before.dummy }).toEqual(
      { real: 2, dummy: 1 },
    );
  });
  it('a hash that is not an argon2 hash fails closed (and ran no verification)', async () => {
    const before = { ...factor.verifications };
    expect((await factor.verify('not-a-hash', 'anything')).ok).toBe(false);
    expect(factor.verifications).toEqual(before);
  });
});
