// The activity log's filters, validated at the edge: days that exist (no 31 February), in a range
// the database can store, "to" not before "from"; a type or group and an application the page
// offers; a search text. Each problem is a code for the field it is about, shown next to it. The
// Activity page and the API's GET /activity take the same fields and turn them into the same
// query (activityFilter).
import { z } from 'zod';
import type { ActivityFilter, ActivityRepo } from '../db/repositories/activity.ts';
import type { Translate } from '../http/i18n.ts';
import { zonedDayStart } from '../lib/time-zone.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';
import { ACTIVITY_FILTERS, ACTIVITY_TYPES } from './activity-types.ts';

/** Years a filter day may have: a 500 came from "to" = 9999-12-31, whose next day PostgreSQL could
 *  not be sent. Nothing in the log predates the first release, and nothing is after 2999. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 2999;
export const MAX_SEARCH = 200;

/** A filter day, YYYY-MM-DD. */
export const filterDay = z.string().superRefine((v, ctx) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return ctx.addIssue({ code: 'custom', message: 'date_invalid' });
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < FIRST_YEAR || year > LAST_YEAR) return ctx.addIssue({ code: 'custom', message: 'date_range' });
  const d = new Date(Date.UTC(year, month - 1, date));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== date)
    ctx.addIssue({ code: 'custom', message: 'date_invalid' });
});

/** A type (`sign_in`) or a whole group (`all:sign_in`). */
export const filterType = z.string().refine((v) => ACTIVITY_FILTERS.has(v), { message: 'invalid_option' });
export const filterSearch = z.string().trim().max(MAX_SEARCH);

/** "to" not before "from", reported at "to". */
export function toNotBeforeFrom(q: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (q.from && q.to && q.to < q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to_before_from' });
}

/** The query string of /account/activity; `apps` are the client ids the application filter offers. */
export function activityQuery(apps: ReadonlySet<string>) {
  return z
    .object({
      from: filterDay.optional(),
      to: filterDay.optional(),
      app: z
        .string()
        .refine((v) => apps.has(v), { message: 'invalid_option' })
        .optional(),
      type: filterType.optional(),
      q: filterSearch.optional(),
      page: z.coerce.number().int().min(1).max(10_000).default(1),
    })
    .superRefine(toNotBeforeFrom);
}

/** The applications the filter offers: those the account's log mentions that still exist, and
 *  these pages themselves. */
export async function filterableApplications(repo: ActivityRepo, accountId: string) {
  return (await repo.applications(accountId)).filter((a) => a.exists || a.clientId === ACCOUNT_CLIENT_ID);
}

/** Lower case, without accents: "modifie" finds "Profil modifié". */
const folded = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** The types whose description, in the reader's language, contains the text. */
function typesDescribedBy(t: Translate, text: string): string[] {
  const needle = folded(text);
  return ACTIVITY_TYPES.filter((type) => folded(t(`activity.types.${type}`)).includes(needle));
}

/** Valid filter values → the repository's query. Days are the reader's: `zone` is the account's
 *  time zone; `t` reads the descriptions the search looks in. */
export function activityFilter(
  q: { from?: string; to?: string; type?: string; app?: string; q?: string },
  reader: { zone: string; t: Translate },
): ActivityFilter {
  return {
    from: q.from ? zonedDayStart(q.from, reader.zone) : undefined,
    // "to" is inclusive for the user: up to the start of the next day.
    to: q.to ? zonedDayStart(q.to, reader.zone, 1) : undefined,
    types: q.type ? ACTIVITY_FILTERS.get(q.type) : undefined,
    clientId: q.app,
    search: q.q ? { text: q.q, types: typesDescribedBy(reader.t, q.q) } : undefined,
  };
}

export type ActivityQuery = z.output<ReturnType<typeof activityQuery>>;

/** Each field's problem code: the one its check gave, `too_long`, or `invalid_option` for anything
 *  else (a repeated field). A bad page number, which no field shows, is the whole query's: `form`. */
export function filterErrors(issues: z.core.$ZodIssue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const field = String(i.path[0] ?? '');
    if (field === 'page' || !field) out.form ??= 'invalid_input';
    else out[field] ??= i.code === 'custom' ? i.message : i.code === 'too_big' ? 'too_long' : 'invalid_option';
  }
  return out;
}

/** Labels for the application filter: the name, and the client id too where two share a name. */
export function applicationChoices(apps: { clientId: string; name: string }[]) {
  const count = new Map<string, number>();
  for (const a of apps) count.set(a.name, (count.get(a.name) ?? 0) + 1);
  return apps
    .map((a) => ({ clientId: a.clientId, label: (count.get(a.name) ?? 0) > 1 ? `${a.name} (${a.clientId})` : a.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
}
