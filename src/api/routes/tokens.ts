// /1/tokens: the caller's personal API tokens — list, create (password again; never more than the
// calling token may do itself), revoke one, several or all. The token's value is in the 201 of its
// creation and nowhere else; the list marks the token making the call (`current`).
import { z } from 'zod';
import type { ApiTokenRow } from '../../db/repositories/api-tokens.ts';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import { passwordField } from '../../http/form.ts';
import { TOKEN_NAME_MAX, tokenState } from '../personal-tokens.ts';
import { API_SCOPES, impliedScopes } from '../scopes.ts';
import type { Principal } from '../authenticate.ts';
import { defineRoute, NoContent, type ApiRoute, IdParams } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const TAG = 'Tokens';
const MAX_IDS = 100;

const ApiToken = z.object({
  id: z.string().uuid(),
  name: z.string(),
  scopes: z.array(z.enum(API_SCOPES)),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable().meta({ description: 'Null: never used. Written at most once a minute.' }),
  last_used_ip: z.string().nullable().meta({ description: 'The address of that last use.' }),
  expires_at: z.iso.datetime().nullable().meta({ description: 'Null: valid until revoked.' }),
  deactivated_at: z.iso
    .datetime()
    .nullable()
    .meta({ description: 'When it was deactivated for going unused for 365 days (it no longer works).' }),
  state: z
    .enum(['active', 'expired', 'deactivated', 'idle'])
    .meta({ description: 'Whether it works: `active`; otherwise why not (`idle`: unused for 365 days).' }),
  current: z.boolean().meta({ description: 'This is the token making the call.' }),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function tokenOf(row: ApiTokenRow, principal: Principal, now: number): z.input<typeof ApiToken> {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as z.input<typeof ApiToken>['scopes'],
    created_at: row.createdAt.toISOString(),
    last_used_at: iso(row.lastUsedAt),
    last_used_ip: row.lastUsedIp,
    expires_at: iso(row.expiresAt),
    deactivated_at: iso(row.deactivatedAt),
    state: tokenState(row, now),
    current: principal.via === 'personal_token' && principal.tokenId === row.id,
  };
}

const NewToken = z.strictObject({
  name: z.string().trim().min(1).max(TOKEN_NAME_MAX),
  scopes: z
    .array(z.enum(API_SCOPES))
    .min(1)
    .max(API_SCOPES.length)
    .meta({ description: 'What the token may do; at most the scopes of the token making the call.' }),
  expires_at: z.iso
    .datetime({ offset: true })
    .nullable()
    .optional()
    .meta({ description: 'When it stops working (in the future); left out or null: valid until revoked.' }),
  password: passwordField.meta({ description: "The account's password: a new token is confirmed with it." }),
});

const RevokeSeveral = z
  .strictObject({
    ids: z
      .array(z.string().uuid())
      .min(1)
      .max(MAX_IDS)
      .optional()
      .meta({ description: `The tokens to revoke (at most ${MAX_IDS}).` }),
    all: z.literal(true).optional().meta({ description: 'true: revoke every token of the account.' }),
  })
  .superRefine((b, ctx) => {
    if ((b.ids === undefined) === (b.all === undefined))
      ctx.addIssue({ code: 'custom', path: ['ids'], message: 'ids_or_all' });
  })
  .meta({ description: 'Either `ids` or `all: true`, not both.' });

const Revoked = z.object({
  revoked: z.array(z.string().uuid()).meta({ description: 'The ids revoked.' }),
  not_found: z.array(z.string().uuid()).meta({
    description: 'Ids that are none of your tokens (unknown, already revoked, or not yours): nothing changed.',
  }),
});

export function tokenRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const { personalTokens, clock } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/tokens',
      operationId: 'listTokens',
      summary: 'Your personal API tokens',
      description: 'Newest first, deactivated and expired ones included. The token values are never shown again.',
      tag: TAG,
      scopes: ['tokens:read', 'tokens:write'],
      list: true,
      response: ApiToken,
      handler: async ({ principal, paging }) => {
        const id = principal.account.id;
        const [rows, total] = await Promise.all([personalTokens.list(id, paging), personalTokens.count(id)]);
        const now = clock.now();
        return { items: rows.map((r) => tokenOf(r, principal, now)), total };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Create a personal API token',
      description:
        'The answer holds the token (`token`): the only time it is shown. Confirmed with the password (a wrong ' +
        'one is a failed sign-in attempt: counted, rate limited). A token cannot create one with a scope it ' +
        'does not hold itself, nor one that outlives it: made with an expiring token, the new one expires ' +
        'with it at the latest (by default: at the same time) (422).',
      tag: TAG,
      scopes: ['tokens:write'],
      body: NewToken,
      status: 201,
      errors: ['wrong_password', 'unprocessable'],
      response: ApiToken.extend({
        token: z.string().meta({ description: 'The token (sesame_pat_…): store it now, it is not shown again.' }),
      }),
      handler: async ({ body, principal, ctx }) => {
        // What the caller may do is what it may hand on: its scopes, and the read scope of each write
        // scope it holds (every route that reads accepts the write scope too).
        const held = impliedScopes(principal.scopes);
        const missing = body.scopes.filter((s) => !held.has(s));
        if (missing.length)
          throw new AppError('unprocessable', { fields: ['scopes'], fieldErrors: { scopes: 'scope_not_held' } });
        // A token that expires cannot make one that outlives it: by default the new one ends with it.
        const limit = principal.expiresAt ?? null;
        const expiresAt =
          body.expires_at === undefined ? limit : body.expires_at === null ? null : new Date(body.expires_at);
        if (expiresAt && expiresAt.getTime() <= clock.now())
          throw new AppError('unprocessable', { fields: ['expires_at'], fieldErrors: { expires_at: 'date_past' } });
        if (limit && (!expiresAt || expiresAt > limit))
          throw new AppError('unprocessable', {
            fields: ['expires_at'],
            fieldErrors: { expires_at: 'beyond_token_expiry' },
          });
        const { account } = principal;
        const info = requestInfo(ctx);
        await deps.checkPassword(
          { email: account.email, account, password: body.password, refusal: 'wrong_password' },
          info,
        );
        const input = { name: body.name, scopes: [...new Set(body.scopes)], expiresAt };
        const { token, row } = await personalTokens.create(account.id, input, info);
        return { ...tokenOf(row, principal, clock.now()), token };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/tokens/{id}',
      operationId: 'revokeToken',
      summary: 'Revoke one token',
      description: 'It stops working at once. Revoking the token making the call is allowed.',
      tag: TAG,
      scopes: ['tokens:write'],
      params: IdParams,
      status: 204,
      response: NoContent,
      handler: async ({ params, principal, ctx }) => {
        const { revoked } = await personalTokens.revoke(principal.account.id, [params.id], requestInfo(ctx));
        if (!revoked.length) throw new AppError('not_found');
        return null;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/tokens',
      operationId: 'revokeTokens',
      summary: 'Revoke several tokens, or all',
      description:
        'Body `{"ids": [...]}` revokes those of the ids that are your tokens and lists the others as `not_found` ' +
        '(nothing changes for them); `{"all": true}` revokes every token, the calling one included.',
      tag: TAG,
      scopes: ['tokens:write'],
      body: RevokeSeveral,
      response: Revoked,
      handler: async ({ body, principal, ctx }) => {
        const accountId = principal.account.id;
        if (body.all) {
          const revoked = await personalTokens.revokeAll(accountId, requestInfo(ctx));
          return { revoked: revoked.map((r) => r.id), not_found: [] };
        }
        const { revoked, notFound } = await personalTokens.revoke(accountId, body.ids ?? [], requestInfo(ctx));
        return { revoked: revoked.map((r) => r.id), not_found: notFound };
      },
    }),
  ];
}
