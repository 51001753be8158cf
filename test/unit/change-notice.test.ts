// The sentence of a security-change email: the method's label reads as part of the sentence, and a
// default name is not repeated after it.
import { describe, it, expect } from 'vitest';
import { emails } from '../../src/notify/emails.ts';

const at = new Date('2026-12-01T13:52:00Z');
const notice = (locale: 'en' | 'fr' | 'de', name: string) =>
  emails.securityChange(locale, 'UTC', 'zoe@example.test', {
    change: 'mfa_enabled',
    method: 'totp',
    name,
    when: at,
    link: 'https://id.example/account/security',
  }).text;

describe('change notices', () => {
  it('emails.default-method-name-not-repeated: "avec application d’authentification", not "Application … « Application … »"', () => {
    const fr = notice('fr', 'Authenticator app');
    expect(fr).toContain('avec application d');
    expect(fr).not.toContain('«');
    expect(notice('en', 'Authenticator app')).not.toContain('“');
  });

  it('emails.custom-method-name-quoted: a name of the user’s own is quoted after the label', () => {
    expect(notice('fr', 'Mon Pixel')).toMatch(/application d.authentification « Mon Pixel »/);
    // German nouns keep their capital.
    expect(notice('de', 'Mein Pixel')).toContain('„Mein Pixel“');
  });
});

describe('masked numbers', () => {
  it('sms.masked-number-keeps-country-code: +1 and +41 numbers show their own country code', async () => {
    const { maskPhone } = await import('../../src/factors/sms.ts');
    expect(maskPhone('+12015550123')).toBe('+1 ••••••••23');
    expect(maskPhone('+41791234567')).toBe('+41 •••••••67');
  });
});
