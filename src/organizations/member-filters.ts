// The members list's filters, from the query string (zod at the edge): a bad value shows the page
// again with a message at the field, 400, never a 500.
import { z } from 'zod';
import { ROLES } from '../db/schema.ts';
import { fieldErrorsOf } from '../http/form.ts';
import type { MemberFilter } from '../db/repositories/organization-members.ts';

export const MAX_MEMBER_SEARCH = 100;

export const MemberQuery = z.object({
  q: z.string().trim().max(MAX_MEMBER_SEARCH).optional(),
  role: z.enum(ROLES).optional(),
  twofa: z.enum(['on', 'off']).optional(),
  state: z.enum(['blocked', 'locked']).optional(),
});

export type MemberQueryResult =
  | { ok: true; filter: MemberFilter; values: Record<string, string> }
  | { ok: false; errors: Record<string, string>; values: Record<string, string> };

/** The filters of a request: empty fields count as absent (a submitted filter form sends them all),
 *  keys the page does not read are ignored, a repeated one is refused. */
export function memberQuery(query: Record<string, unknown>): MemberQueryResult {
  const known = ['q', 'role', 'twofa', 'state'];
  const raw = Object.fromEntries(Object.entries(query).filter(([k, v]) => known.includes(k) && v !== ''));
  const values = Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v.map(String).join(', ') : String(v)]),
  );
  const parsed = MemberQuery.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: fieldErrorsOf(parsed.error.issues, values), values };
  const { q, ...rest } = parsed.data;
  return { ok: true, filter: { ...rest, ...(q ? { q } : {}) }, values };
}
