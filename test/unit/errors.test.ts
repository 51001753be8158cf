import { describe, it, expect } from 'vitest';
import { ERROR_CODES, AppError, isErrorCode } from '../../src/errors.ts';
import { LOCALES, translator, loadCatalog, type Locale } from '../../src/http/i18n.ts';

const catalog = (l: Locale) => loadCatalog(l);
function keys(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object') return [prefix];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe('errors', () => {
  it.each(LOCALES)('every code a user can see has its own message in %s', (locale) => {
    const errors = (catalog(locale).errors ?? {}) as Record<string, unknown>;
    const missing = ERROR_CODES.filter((code) => typeof errors[code] !== 'string' || !(errors[code] as string).trim());
    expect(missing).toEqual([]);
    // Not English left in place: each message is this language's own (French and the others differ).
    if (locale !== 'en') {
      const t = translator(locale);
      const en = translator('en');
      const same = ERROR_CODES.filter((c) => t(`errors.${c}`) === en(`errors.${c}`));
      expect(same).toEqual([]);
    }
  });
  it("every message belongs to a code (protocol: the page for oidc-provider's own errors)", () => {
    const errors = Object.keys(catalog('en').errors as Record<string, unknown>);
    expect(errors.filter((k) => k !== 'protocol' && !isErrorCode(k))).toEqual([]);
  });
  it('the five catalogs have the same keys', () => {
    const en = keys(catalog('en')).sort();
    for (const l of LOCALES) expect(keys(catalog(l)).sort()).toEqual(en);
  });
  it('a status per code: 4xx for what the user can fix, 5xx only for ours, a dependency or the SMS gateway', () => {
    for (const code of ERROR_CODES) {
      const { status } = new AppError(code);
      expect(status >= 400 && status < 600).toBe(true);
      if (status >= 500) expect(['internal', 'unavailable', 'sms_unavailable']).toContain(code);
    }
    expect(new AppError('invalid_code', { status: 400 }).status).toBe(400);
    expect(isErrorCode('rate_limited')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
