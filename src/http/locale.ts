import type { Next } from 'koa';
import { resolveLocale, translator, type Locale } from './i18n.ts';
import type { Ctx } from './context.ts';

/** Default locale for a request: ?ui_locales, then Accept-Language. Pages that know more (the
 *  user's own setting, the RP's ui_locales in an interaction) call setLocale. */
export async function localeMiddleware(ctx: Ctx, next: Next) {
  const ui = typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales : undefined;
  setLocale(ctx, resolveLocale({ uiLocales: ui, acceptLanguage: ctx.get('Accept-Language') }));
  await next();
}

export function setLocale(ctx: Ctx, locale: Locale) {
  ctx.state.locale = locale;
  ctx.state.t = translator(locale);
}
