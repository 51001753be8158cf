// The activity log page: the user's own sign-ins and security changes, newest first, filtered by
// date range (days in the user's time zone), application and type of action, and searched by
// text (the description in the user's language, application, address, device), 25 a page.
import Router from '@koa/router';
import type { AccountCtx, AccountState } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import type { ActivityRepo, ActivityFilter } from '../db/repositories/activity.ts';
import type { AccountSession } from '../http/require-account.ts';
import { ACTIVITY_FILTERS, ACTIVITY_GROUPS, ACTIVITY_TYPES, groupFilter } from './activity-types.ts';
import { activityQuery, applicationChoices, filterErrors, MAX_SEARCH, type ActivityQuery } from './activity-filters.ts';
import { zonedDayStart } from '../lib/time-zone.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';

const PAGE_SIZE = 25;

/** Lower case, without accents: "modifie" finds "Profil modifié". */
const folded = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** "1 Dec 2026, 12:37": a row stays on one line. */
function shortDates(locale: string, timeZone: string): (d: Date) => string {
  const options = { dateStyle: 'medium', timeStyle: 'short' } as const;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
  } catch {
    format = new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
  }
  return (d) => format.format(d);
}

export function createActivityRouter(deps: { accountSession: AccountSession; repos: { activity: ActivityRepo } }) {
  const router = new Router<AccountState>({ prefix: '/account/activity' });
  router.use(deps.accountSession.requireAccount);
  const repo = deps.repos.activity;

  /** The types whose description, in this user's language, contains the text. */
  function typesDescribedBy(ctx: AccountCtx, text: string): string[] {
    const needle = folded(text);
    return ACTIVITY_TYPES.filter((t) => folded(ctx.state.t(`activity.types.${t}`)).includes(needle));
  }

  function filterOf(ctx: AccountCtx, q: ActivityQuery): ActivityFilter {
    const zone = ctx.state.account.zoneinfo;
    return {
      from: q.from ? zonedDayStart(q.from, zone) : undefined,
      // "to" is inclusive for the user: up to the start of the next day.
      to: q.to ? zonedDayStart(q.to, zone, 1) : undefined,
      types: q.type ? ACTIVITY_FILTERS.get(q.type) : undefined,
      clientId: q.app,
      search: q.q ? { text: q.q, types: typesDescribedBy(ctx, q.q) } : undefined,
    };
  }

  router.get('/', async (ctx) => {
    const { account } = ctx.state;
    // Empty fields count as absent (a submitted filter form sends them all); a repeated one is bad.
    const raw = Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => v !== ''));
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
    // Only applications that still exist (and these pages themselves) can be chosen.
    const known = (await repo.applications(account.id)).filter((a) => a.exists || a.clientId === ACCOUNT_CLIENT_ID);
    const common = {
      apps: applicationChoices(known),
      groups: ACTIVITY_GROUPS,
      groupFilter,
      maxSearch: MAX_SEARCH,
      formatShort: shortDates(ctx.state.locale, account.zoneinfo),
      values,
    };
    const parsed = activityQuery(new Set(known.map((a) => a.clientId))).safeParse(raw);
    if (!parsed.success) {
      const errors = filterErrors(parsed.error.issues);
      const page = { rows: [], total: 0, page: 1, pages: 1, errors, error: errors.form ?? 'invalid_input' };
      return renderPage(ctx, 'activity', { ...common, ...page }, 400);
    }
    const q = parsed.data;
    const filter = filterOf(ctx, q);
    const [rows, total] = await Promise.all([
      repo.list(account.id, filter, { limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }),
      repo.count(account.id, filter),
    ]);
    const query = (page: number) => new URLSearchParams({ ...values, page: String(page) }).toString();
    renderPage(ctx, 'activity', {
      ...common,
      rows,
      total,
      page: q.page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
    });
  });
  return router;
}
