import { Eta } from 'eta';
import { VIEWS_DIR } from '../lib/paths.ts';
import { LOCALES, LANGUAGE_NAMES, formatDate } from './i18n.ts';
import { PAGE_CSP } from './security-headers.ts';
import { factorName } from './factor-name.ts';
import { accountMenu } from './account-menu.ts';
import type { Ctx, SesameState } from './context.ts';

const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true, autoTrim: false });

export function renderPage<S extends SesameState>(
  ctx: Ctx<S>,
  template: string,
  data: Record<string, unknown> = {},
  status = 200,
) {
  const { t, locale, csrfToken } = ctx.state;
  // The language switcher, on pages whose language is not the account's own setting, and only
  // where going back to the same address is a GET that shows the same page.
  const languages =
    ctx.method === 'GET' && !ctx.state.accountLocale
      ? LOCALES.map((l) => ({
          locale: l,
          name: LANGUAGE_NAMES[l],
          href: `/language?${new URLSearchParams({ set: l, back: ctx.originalUrl })}`,
        }))
      : undefined;
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.body = eta.render(template, {
    values: {},
    error: undefined,
    fields: [],
    errors: {},
    ...data,
    t,
    locale,
    locales: LOCALES,
    csrfToken,
    languages,
    formatDate: (d: Date, tz?: string, opts?: { zoneLabel?: boolean }) => formatDate(d, locale, tz, opts),
    factorName: (type: string, name: string) => factorName(t, type, name),
    // The account menu, on the pages of a signed-in account (requireAccount set it).
    accountMenu: 'account' in ctx.state && ctx.state.account ? accountMenu(ctx.path) : undefined,
    // The organization switcher beside it (organizations/context.ts).
    organizationsView: 'organizations' in ctx.state ? ctx.state.organizations : undefined,
    backPath: ctx.method === 'GET' ? ctx.originalUrl : undefined,
  });
}

export function renderString(template: string, data: Record<string, unknown>): string {
  return eta.render(template, data);
}

/** 303 See Other: after a form that changed something, the browser GETs the result page. */
export function seeOther(ctx: Ctx, to: string) {
  ctx.status = 303;
  ctx.redirect(to);
}
