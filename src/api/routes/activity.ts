// /1/activity: the account's activity log with the Activity page's filters (type or group,
// application, days from/to in the account's time zone) and its text search, through the same
// rules and query (account/activity-filters.ts). Each entry's description is in the caller's
// language (Accept-Language); only the details the page shows, by name, are given out.
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { ActivityRow } from '../../db/repositories/activity.ts';
import {
  activityFilter,
  filterableApplications,
  filterDay,
  filterSearch,
  filterType,
  MAX_SEARCH,
  toNotBeforeFrom,
} from '../../account/activity-filters.ts';
import { ACTIVITY_FILTERS } from '../../account/activity-types.ts';
import { defineRoute, type ApiRoute } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const ActivityQuery = z
  .strictObject({
    type: filterType.optional().meta({
      description:
        'One type (sign_in) or a whole group (all:sign_in, all:security, all:applications, all:organizations).',
      enum: [...ACTIVITY_FILTERS.keys()],
    }),
    application: z
      .string()
      .max(200)
      .optional()
      .meta({ description: 'A client id the log mentions, of an application that still exists.' }),
    from: filterDay
      .optional()
      .meta({ description: "YYYY-MM-DD, the first day (in the account's time zone).", format: 'date' }),
    to: filterDay
      .optional()
      .meta({ description: 'YYYY-MM-DD, the last day, included; not before `from`.', format: 'date' }),
    q: filterSearch.optional().meta({
      description: `Text to find (at most ${MAX_SEARCH} characters) in the description (in the caller's language), application, address or device.`,
    }),
  })
  .superRefine(toNotBeforeFrom);

/** What `details` may carry, as the Activity page shows it: the method and its name, what changed,
 *  the organization and the other person… never anything else an entry may hold. */
const SHOWN_DETAILS: Record<string, string> = {
  method: 'method',
  name: 'name',
  amr: 'amr',
  what: 'what',
  via: 'via',
  after: 'after',
  browser: 'browser',
  count: 'count',
  ended: 'ended',
  scopes: 'scopes',
  organization: 'organization',
  organizationId: 'organization_id',
  member: 'member',
  by: 'by',
  from: 'from',
  to: 'to',
};

const DetailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

function shownDetails(details: Record<string, unknown>): Record<string, z.input<typeof DetailValue>> {
  const out: Record<string, z.input<typeof DetailValue>> = {};
  for (const [key, value] of Object.entries(details)) {
    const name = SHOWN_DETAILS[key];
    if (name && DetailValue.safeParse(value).success) out[name] = value as z.input<typeof DetailValue>;
  }
  return out;
}

const Entry = z.object({
  id: z.string(),
  type: z.string().meta({ description: 'A stable code (sign_in, profile_changed, session_ended…).' }),
  description: z.string().meta({ description: "What happened, in the caller's language." }),
  at: z.iso.datetime(),
  ip: z.string().nullable(),
  device: z.string().nullable(),
  application: z
    .object({ client_id: z.string(), name: z.string().nullable() })
    .nullable()
    .meta({ description: 'The application it happened in (its name when it happened).' }),
  details: z.record(z.string(), DetailValue).meta({
    description:
      'What the entry is about, as the Activity page shows it: method, name, what, organization, member, by, from, to…',
  }),
});

export function activityRoutes(deps: Pick<ApiRouteDeps, 'repos'>): ApiRoute[] {
  const repo = deps.repos.activity;
  return [
    defineRoute({
      method: 'get',
      path: '/activity',
      operationId: 'listActivity',
      summary: 'The activity log',
      description:
        "Sign-ins and security changes, newest first, with the Activity page's filters. A filter value that " +
        'is not valid is a 400 validation_failed naming the field.',
      tag: 'Activity',
      scopes: ['activity:read'],
      list: true,
      query: ActivityQuery,
      response: Entry,
      handler: async ({ principal, query, paging, ctx }) => {
        const { account } = principal;
        if (query.application !== undefined) {
          const known = await filterableApplications(repo, account.id);
          if (!known.some((a) => a.clientId === query.application))
            throw new AppError('validation_failed', { fieldErrors: { application: 'invalid_option' } });
        }
        const { t } = ctx.state;
        const filter = activityFilter({ ...query, app: query.application }, { zone: account.zoneinfo, t });
        const [rows, total] = await Promise.all([
          repo.list(account.id, filter, paging),
          repo.count(account.id, filter),
        ]);
        const items = rows.map((r: ActivityRow) => ({
          id: r.id,
          type: r.type,
          description: t(`activity.types.${r.type}`),
          at: r.at.toISOString(),
          ip: r.ip,
          device: r.device || null,
          application: r.clientId ? { client_id: r.clientId, name: r.application } : null,
          details: shownDetails(r.details),
        }));
        return { items, total };
      },
    }),
  ];
}
