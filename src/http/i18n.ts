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
const LOCALES_DIR = path.join(VIEWS_DIR, 'locales');
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog;

/** Adds `extra` into `into`; a text defined twice is a mistake, refused at start (not silently won
 *  by whichever file loads last). */
function mergeInto(into: Catalog, extra: Catalog, file: string, prefix = ''): void {
  for (const [k, v] of Object.entries(extra)) {
    const at = prefix ? `${prefix}.${k}` : k;
    const cur = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (cur === undefined) into[k] = {};
      else if (!cur || typeof cur !== 'object') throw new Error(`${file}: "${at}" is already a text`);
      mergeInto(into[k] as Catalog, v as Catalog, file, at);
    } else if (cur !== undefined) throw new Error(`${file}: "${at}" is defined twice`);
    else into[k] = v;
  }
}

/** A language's catalog: views/locales/<lang>.json, plus each feature's own file
 *  views/locales/<feature>/<lang>.json (organizations keep their texts apart from the rest). */
export function loadCatalog(locale: Locale): Catalog {
  const catalog = readJson(path.join(LOCALES_DIR, `${locale}.json`));
  const features = fs
    .readdirSync(LOCALES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const feature of features) {
    const file = path.join(LOCALES_DIR, feature, `${locale}.json`);
    if (fs.existsSync(file)) mergeInto(catalog, readJson(file), file);
  }
  return catalog;
}

const catalogs = new Map<Locale, Catalog>();
for (const l of LOCALES) catalogs.set(l, loadCatalog(l));

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
