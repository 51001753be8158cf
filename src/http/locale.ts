// One locale per request, decided once from what is known: the account's own setting (once the
// account is known), then the language this browser chose with the switcher, then the relying
// party's ui_locales, then Accept-Language, then English. Routes that learn the account call
// setAccountLocale(ctx, account); nothing else changes the language of a request.
import type { Next } from 'koa';
import { isLocale, localeOf, resolveLocale, translator, type Locale } from './i18n.ts';
import type { Ctx } from './context.ts';
import { safeLocalPath } from './return-path.ts';

/** The language picked with the switcher on a public page (a preference, not a secret). */
export const LANG_COOKIE = 'sesame_lang';
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The request's locale when no account is known: the switcher's choice, then ui_locales (the RP's,
 *  or this request's), then Accept-Language. */
export function requestLocale(ctx: Ctx, uiLocales?: unknown): Locale {
  const chosen = ctx.cookies.get(LANG_COOKIE);
  if (isLocale(chosen)) return chosen;
  const ui =
    typeof uiLocales === 'string'
      ? uiLocales
      : typeof ctx.query.ui_locales === 'string'
        ? ctx.query.ui_locales
        : undefined;
  return resolveLocale({ uiLocales: ui, acceptLanguage: ctx.get('Accept-Language') });
}

export async function localeMiddleware(ctx: Ctx, next: Next) {
  setLocale(ctx, requestLocale(ctx));
  // GET /language?set=fr&back=/path — the switcher on public pages: remember the choice, go back.
  if (ctx.path === '/language' && ctx.method === 'GET') {
    const set = ctx.query.set;
    if (isLocale(set)) {
      ctx.cookies.set(LANG_COOKIE, set, {
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        maxAge: YEAR_MS,
        overwrite: true,
        signed: false,
      });
    }
    ctx.status = 303;
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(safeLocalPath(ctx.query.back) ?? '/');
    return;
  }
  await next();
}

export function setLocale(ctx: Ctx, locale: Locale) {
  ctx.state.locale = locale;
  ctx.state.t = translator(locale);
}

/** The account is known: its own setting decides the language of this request. */
export function setAccountLocale(ctx: Ctx, account: { locale?: string | null }) {
  setLocale(ctx, localeOf(account));
  ctx.state.accountLocale = true;
}
