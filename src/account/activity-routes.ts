// The activity log page: the user's own sign-ins and security changes, newest first, filtered by
// date range (days in the user's time zone), application and type of action, and searched by
// text (the description in the user's language, application, address, device), 25 a page.
import Router from '@koa/router';
import type { AccountState } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { AccountSession } from '../http/require-account.ts';
import { ACTIVITY_GROUPS, groupFilter } from './activity-types.ts';
import {
  activityFilter,
  activityQuery,
  applicationChoices,
  filterableApplications,
  filterErrors,
  MAX_SEARCH,
} from './activity-filters.ts';

const PAGE_SIZE = 25;

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

  router.get('/', async (ctx) => {
    const { account } = ctx.state;
    // Empty fields count as absent (a submitted filter form sends them all); a repeated one is bad.
    const raw = Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => v !== ''));
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
    const known = await filterableApplications(repo, account.id);
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
    const filter = activityFilter(q, { zone: account.zoneinfo, t: ctx.state.t });
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
