// Locale catalogs in views/locales/<lang>.json. A user's choice wins, then the RP's ui_locales,
// then Accept-Language, then English.
import fs from 'node:fs';
import path from 'node:path';
import { VIEWS_DIR } from '../lib/paths.ts';

export const LOCALES = ['en', 'fr', 'de', 'it', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
/** Each language's name in itself, for the language switcher. */
export const LANGUAGE_NAMES: Record<Locale, string> = {
  en: 'English',
  fr: 'Français',
  de: 'Deutsch',
  it: 'Italiano',
  es: 'Español',
};

type Catalog = Record<string, unknown>;
const catalogs = new Map<Locale, Catalog>();
for (const l of LOCALES)
  catalogs.set(l, JSON.parse(fs.readFileSync(path.join(VIEWS_DIR, 'locales', `${l}.json`), 'utf8')) as Catalog);

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

/** An account's (or any stored) language, English when it is not one we have. */
export function localeOf(who: { locale?: string | null } | undefined): Locale {
  return isLocale(who?.locale) ? who.locale : 'en';
}

function lookup(catalog: Catalog, key: string): string | undefined {
  let cur: unknown = catalog;
  for (const part of key.split('.')) {
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return typeof cur === 'string' ? cur : undefined;
}

export type Translate = (key: string, params?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const fallback = catalogs.get('en') ?? {};
  const catalog = catalogs.get(locale) ?? fallback;
  return (key, params) => {
    const template = lookup(catalog, key) ?? lookup(fallback, key) ?? key;
    return params
      ? template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
      : template;
  };
}

function firstSupported(tags: string[]): Locale | undefined {
  for (const tag of tags) {
    const base = tag.trim().toLowerCase().split(/[-_]/)[0];
    if (isLocale(base)) return base;
  }
  return undefined;
}

export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: (tag ?? '').trim(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((x) => x.tag);
}

export function resolveLocale(opts: {
  userLocale?: string | null;
  uiLocales?: string | null;
  acceptLanguage?: string;
}): Locale {
  if (isLocale(opts.userLocale)) return opts.userLocale;
  return (
    firstSupported((opts.uiLocales ?? '').split(' ').filter(Boolean)) ??
    firstSupported(parseAcceptLanguage(opts.acceptLanguage)) ??
    'en'
  );
}

/** A time zone Intl knows, else UTC (a stored zone the runtime has dropped must not break a page). */
function knownZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** Dates in the user's language and time zone. French writes the first of the month as an ordinal
 *  ("1er décembre"), which Intl does not. `zoneLabel` adds the zone's name, for texts read away from
 *  the page (emails): "1 December 2025 at 14:05 (Europe/Zurich)". */
export function formatDate(date: Date, locale: Locale, timeZone = 'UTC', opts: { zoneLabel?: boolean } = {}): string {
  const zone = knownZone(timeZone);
  const parts = new Intl.DateTimeFormat(locale, {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: zone,
  }).formatToParts(date);
  const text = parts.map((p) => (locale === 'fr' && p.type === 'day' && p.value === '1' ? '1er' : p.value)).join('');
  return opts.zoneLabel ? `${text} (${zone})` : text;
}
