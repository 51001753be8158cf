// Language negotiation and dates, without a server.
import { describe, it, expect } from 'vitest';
import { parseAcceptLanguage, resolveLocale, formatDate, translator, isLocale } from '../../src/http/i18n.ts';

describe('parseAcceptLanguage', () => {
  it('orders tags by q (RFC 9110 §12.5.4), keeping header order for equal weights', () => {
    expect(parseAcceptLanguage('fr;q=0.5, de ; q=0.9, es, it')).toEqual(['es', 'it', 'de', 'fr']);
    expect(parseAcceptLanguage('de-CH,de;q=0.9,en;q=0.5')).toEqual(['de-CH', 'de', 'en']);
  });
  it('drops q=0 ("not acceptable"), unreadable weights and empty parts', () => {
    expect(parseAcceptLanguage('en;q=0, fr;q=0.000, de;q=abc, , it;q=0.1')).toEqual(['it']);
  });
  it('an absent or empty header is no preference', () => {
    expect(parseAcceptLanguage(undefined)).toEqual([]);
    expect(parseAcceptLanguage('')).toEqual([]);
  });
});

describe('resolveLocale: user > ui_locales > Accept-Language > en', () => {
  it("the user's own choice wins over everything the request says", () => {
    expect(resolveLocale({ userLocale: 'it', uiLocales: 'fr', acceptLanguage: 'de' })).toBe('it');
  });
  it('an unsupported user choice is skipped, not trusted', () => {
    expect(resolveLocale({ userLocale: 'pt', uiLocales: 'fr', acceptLanguage: 'de' })).toBe('fr');
    expect(resolveLocale({ userLocale: null, acceptLanguage: 'de' })).toBe('de');
  });
  it('ui_locales (space-separated, in preference order) wins over Accept-Language; region and case are ignored', () => {
    expect(resolveLocale({ uiLocales: 'pt-BR FR-ca de', acceptLanguage: 'es' })).toBe('fr');
    expect(resolveLocale({ uiLocales: 'de_AT' })).toBe('de');
  });
  it('ui_locales with nothing supported falls through to Accept-Language, by weight not position', () => {
    expect(resolveLocale({ uiLocales: 'pt ja', acceptLanguage: 'de-CH;q=0.1, it;q=0.8' })).toBe('it');
  });
  it('English when nothing supported is asked for (a wildcard is not a language)', () => {
    expect(resolveLocale({ acceptLanguage: 'pt-BR, *' })).toBe('en');
    expect(resolveLocale({})).toBe('en');
    expect(resolveLocale({ acceptLanguage: 'es;q=0' })).toBe('en');
  });
});

describe('formatDate', () => {
  const instant = new Date('2026-01-10T23:30:00Z');
  it('shows the instant in the given zone: the next day already in Tokyo', () => {
    const tokyo = formatDate(instant, 'de', 'Asia/Tokyo');
    expect(tokyo).toContain('11. Januar 2026');
    expect(tokyo).toContain('08:30');
  });
  it('behind UTC in New York, in French', () => {
    const ny = formatDate(instant, 'fr', 'America/New_York');
    expect(ny).toContain('10 janvier 2026');
    expect(ny).toContain('18:30');
  });
  it('UTC by default, and for a zone that does not exist (instead of throwing)', () => {
    expect(formatDate(instant, 'en')).toBe(formatDate(instant, 'en', 'UTC'));
    expect(formatDate(instant, 'en', 'Mars/Olympus')).toBe(formatDate(instant, 'en', 'UTC'));
    expect(formatDate(instant, 'en', 'UTC')).toMatch(/January 10, 2026.*11:30\s?PM/);
  });
});

describe('translator', () => {
  it('falls back to English, then to the key itself; fills named parameters and leaves unknown ones', () => {
    const fr = translator('fr');
    expect(fr('errors.invalid_credentials')).not.toBe(translator('en')('errors.invalid_credentials'));
    expect(fr('no.such.key')).toBe('no.such.key');
    expect(fr('login.lead', { app: 'Blog' })).toContain('Blog');
    expect(translator('en')('login.lead')).toContain('{app}');
  });
  it('isLocale accepts only the five shipped languages', () => {
    expect(['en', 'fr', 'de', 'it', 'es'].every(isLocale)).toBe(true);
    expect([undefined, null, 'EN', 'pt', 'en-GB', 5].some(isLocale)).toBe(false);
  });
});
