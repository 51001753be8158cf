// The activity log page: the user's own sign-ins and security changes, newest first, filtered by
// date range (days in the user's time zone), application and type of action, 25 a page.
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountState } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import type { ActivityRepo, ActivityFilter } from '../db/repositories/activity.ts';
import type { AccountSession } from '../http/require-account.ts';
import { ACTIVITY_GROUPS, ACTIVITY_TYPES, isActivityGroup } from './activity-types.ts';
import { zonedDayStart } from '../lib/time-zone.ts';
import type { ErrorCode } from '../errors.ts';

const PAGE_SIZE = 25;
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)));
const Query = z.object({
  from: day.optional(),
  to: day.optional(),
  app: z.string().max(200).optional(),
  type: z
    .string()
    .refine((v) => isActivityGroup(v) || (ACTIVITY_TYPES as readonly string[]).includes(v))
    .optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

export function createActivityRouter(deps: { accountSession: AccountSession; repos: { activity: ActivityRepo } }) {
  const router = new Router<AccountState>({ prefix: '/account/activity' });
  router.use(deps.accountSession.requireAccount);
  const repo = deps.repos.activity;

  router.get('/', async (ctx) => {
    const { account } = ctx.state;
    // Empty fields count as absent (a submitted filter form sends them all).
    const raw = Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => typeof v === 'string' && v !== ''));
    const parsed = Query.safeParse(raw);
    const apps = await repo.applications(account.id);
    const common = { apps, groups: ACTIVITY_GROUPS, zone: account.zoneinfo, values: raw };
    if (!parsed.success) {
      return renderPage(
        ctx,
        'activity',
        { ...common, rows: [], total: 0, page: 1, pages: 1, error: 'invalid_input' satisfies ErrorCode },
        400,
      );
    }
    const q = parsed.data;
    const filter: ActivityFilter = {
      from: q.from ? zonedDayStart(q.from, account.zoneinfo) : undefined,
      // "to" is inclusive for the user: up to the start of the next day.
      to: q.to ? zonedDayStart(q.to, account.zoneinfo, 1) : undefined,
      types: q.type ? (isActivityGroup(q.type) ? ACTIVITY_GROUPS[q.type] : [q.type]) : undefined,
      clientId: q.app,
    };
    const [rows, total] = await Promise.all([
      repo.list(account.id, filter, { limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }),
      repo.count(account.id, filter),
    ]);
    const query = (page: number) => new URLSearchParams({ ...raw, page: String(page) }).toString();
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
