// /1/app-passwords: the caller's app passwords (for mail, calendar and file-sync tools that cannot
// do 2FA) — list, create (only with 2FA on; the password again), revoke one or all. The value is in
// the 201 of its creation and nowhere else (only its HMAC is kept).
import { z } from 'zod';
import type { AppPasswordRow } from '../../db/repositories/app-passwords.ts';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import { passwordField } from '../../http/form.ts';
import { APP_PASSWORD_NAME_MAX } from '../../app-passwords/service.ts';
import { createAppPassword } from '../../app-passwords/create.ts';
import { defineRoute, NoContent, pageOf, type ApiRoute, IdParams } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const TAG = 'App passwords';

const AppPassword = z.object({
  id: z.string().uuid(),
  name: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable().meta({ description: 'Null: never used.' }),
  last_used_ip: z.string().nullable().meta({ description: 'The address of that last use.' }),
  last_used_service: z
    .string()
    .nullable()
    .meta({ description: 'The service it was last used for (the host a reverse proxy named), if known.' }),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const appPasswordOf = (row: AppPasswordRow): z.input<typeof AppPassword> => ({
  id: row.id,
  name: row.name,
  created_at: row.createdAt.toISOString(),
  last_used_at: iso(row.lastUsedAt),
  last_used_ip: row.lastUsedIp,
  last_used_service: row.lastUsedService,
});

const NewAppPassword = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(APP_PASSWORD_NAME_MAX)
    .meta({ description: 'What you recognise it by, e.g. "Thunderbird on laptop".' }),
  password: passwordField.meta({ description: "The account's password: a new app password is confirmed with it." }),
});

const Revoked = z.object({ revoked: z.array(z.string().uuid()).meta({ description: 'The ids revoked.' }) });

export function appPasswordRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const { appPasswords } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/app-passwords',
      operationId: 'listAppPasswords',
      summary: 'Your app passwords',
      description: 'Newest first, with their last use. Their values are never shown again.',
      tag: TAG,
      scopes: ['app_passwords:read', 'app_passwords:write'],
      list: true,
      response: AppPassword,
      handler: async ({ principal, paging }) => {
        return pageOf(await appPasswords.list(principal.account.id), paging, appPasswordOf);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/app-passwords',
      operationId: 'createAppPassword',
      summary: 'Create an app password',
      description:
        'The answer holds the app password (`password`, grouped as `abcd-efgh-jkmn-pqrs`): the only time it is ' +
        'shown. The username to use with it is the account’s email address. Only with two-step verification on ' +
        '(409 `two_factor_required` otherwise). Confirmed with the account password (a wrong one is a failed ' +
        'sign-in attempt: counted, rate limited). Emailed to the account’s address.',
      tag: TAG,
      scopes: ['app_passwords:write'],
      body: NewAppPassword,
      status: 201,
      errors: ['wrong_password', 'two_factor_required'],
      response: AppPassword.extend({
        password: z
          .string()
          .meta({ description: 'The app password: store it in the tool now, it is not shown again.' }),
        username: z.string().meta({ description: 'The login to type with it: the account’s email address.' }),
      }),
      handler: async ({ body, principal, ctx }) => {
        const { account } = principal;
        const info = requestInfo(ctx);
        await deps.checkPassword(
          { email: account.email, account, password: body.password, refusal: 'wrong_password' },
          info,
        );
        const { secret, row } = await createAppPassword(deps, account, body.name, info);
        return { ...appPasswordOf(row), password: secret, username: account.email };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/app-passwords/{id}',
      operationId: 'revokeAppPassword',
      summary: 'Revoke one app password',
      description: 'It stops working at once, on every node.',
      tag: TAG,
      scopes: ['app_passwords:write'],
      params: IdParams,
      status: 204,
      response: NoContent,
      handler: async ({ params, principal, ctx }) => {
        const { revoked } = await appPasswords.revoke(principal.account.id, [params.id], requestInfo(ctx));
        if (!revoked.length) throw new AppError('not_found');
        return null;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/app-passwords',
      operationId: 'revokeAppPasswords',
      summary: 'Revoke every app password',
      description: 'Every app password of the account stops working at once.',
      tag: TAG,
      scopes: ['app_passwords:write'],
      response: Revoked,
      handler: async ({ principal, ctx }) => {
        const revoked = await appPasswords.revokeAll(principal.account.id, requestInfo(ctx));
        return { revoked: revoked.map((r) => r.id) };
      },
    }),
  ];
}
