// /1/sessions: the browsers signed in to this account, as the Sessions page lists them, and ending
// one or all of them with the page's own service (account/sessions.ts): the same activity entry
// (session_ended), the applications' grants and tokens revoked, back-channel logout sent.
//
// A token is not a browser session: no session is ever "current" for an API call, so "end all"
// ends every browser session of the account. For an OAuth access token this includes the session
// the application's sign-in came from; ending it revokes that grant, and with it the very token
// that asked (its next call is a 401). Personal API tokens are not sessions and keep working.
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import { describePlace } from '../../lib/user-agent.ts';
import { defineRoute, NoContent, type ApiRoute, pageOf } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const Session = z.object({
  id: z.string().meta({ description: "The session's id, for DELETE /sessions/{id}." }),
  device: z
    .string()
    .nullable()
    .meta({ description: 'Browser and system ("Chrome 140 · Linux"); null: not recognised.' }),
  ip: z.string().nullable().meta({ description: 'The address it was last seen from.' }),
  place: z
    .enum(['this_computer', 'local_network'])
    .nullable()
    .meta({ description: 'What the address tells of the place; null for a public address (no GeoIP is kept).' }),
  created_at: z.iso.datetime().meta({ description: 'Signed in at.' }),
  last_seen_at: z.iso.datetime().meta({ description: 'Last active at.' }),
  current: z.boolean().meta({ description: 'Always false: an API call is never made from a browser session.' }),
});

/** oidc-provider's session uids (nanoid): anything else is a 404 without asking the database. */
const SessionId = z.object({ id: z.string().regex(/^[\w-]{1,128}$/) });

export function sessionsRoutes(deps: Pick<ApiRouteDeps, 'sessions'>): ApiRoute[] {
  const { sessions } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/sessions',
      operationId: 'listSessions',
      summary: 'Signed-in browsers',
      description: 'Every live browser session of the account, most recently active first.',
      tag: 'Sessions',
      scopes: ['sessions:read', 'sessions:write'],
      list: true,
      response: Session,
      handler: async ({ principal, paging }) => {
        const all = await sessions.list(principal.account.id);
        return pageOf(all, paging, (s) => {
          const place = s.ip ? describePlace(s.ip) : 'unknown';
          return {
            id: s.uid,
            device: s.device || null,
            ip: s.ip,
            place: place === 'unknown' ? null : place,
            created_at: s.signedInAt.toISOString(),
            last_seen_at: s.lastActiveAt.toISOString(),
            current: false,
          };
        });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/sessions/{id}',
      operationId: 'endSession',
      summary: 'End one session',
      description:
        'Signs that browser out: the grants of the applications it signed in to are revoked with their tokens, ' +
        'and applications with a back-channel logout URI are told. An id that is not a live session of this ' +
        'account (another user’s, an ended one) is a 404.',
      tag: 'Sessions',
      scopes: ['sessions:write'],
      params: SessionId,
      status: 204,
      response: NoContent,
      handler: async ({ principal, params, ctx }) => {
        if (!(await sessions.end(principal.account.id, params.id, requestInfo(ctx)))) throw new AppError('not_found');
        return null;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/sessions',
      operationId: 'endAllSessions',
      summary: 'End every browser session',
      description:
        'An API call has no browser session of its own, so this ends all of them (the Sessions page’s ' +
        '"end all others" keeps the page’s own). An OAuth access token whose sign-in was one of them is ' +
        'revoked with it; personal API tokens keep working. Answers how many were ended.',
      tag: 'Sessions',
      scopes: ['sessions:write'],
      response: z.object({ ended: z.number().int().min(0) }),
      handler: async ({ principal, ctx }) => ({
        ended: await sessions.endAll(principal.account.id, undefined, requestInfo(ctx)),
      }),
    }),
  ];
}
