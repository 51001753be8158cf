// The App passwords pages (Security → App passwords, /account/security/app-passwords): the list with
// each one's last use, creation (only with 2FA on; confirmed with a recent sign-in or the password
// again: requireFresh holds what was typed meanwhile), the new one shown once on the GET page the
// POST redirects to (account/shown-once.ts), and revoking one or all, each confirmed. Registered on
// the Security page's router, like the API tokens pages, so that the password confirmation there
// can apply a held creation.
import Router from '@koa/router';
import { z } from 'zod';
import { uuidParam } from '../api/route.ts';
import type { AccountCtx, AccountState } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, NoFields, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import { addRevokeAllRoutes } from '../http/revoke-all-routes.ts';
import { AppError } from '../errors.ts';
import type { RequireFresh } from '../login/require-fresh.ts';
import type { ShownOnce } from '../account/shown-once.ts';
import { APP_PASSWORD_NAME_MAX, type AppPasswords } from './service.ts';
import { APP_PASSWORDS_PAGE, appPasswordsOffered, createAppPassword, type CreateAppPasswordDeps } from './create.ts';

const PATH = APP_PASSWORDS_PAGE;
/** The same address within the Security router (prefix /account/security) these routes join. */
const HERE = '/app-passwords';
const NewForm = z.object({ name: z.string().trim().min(1).max(APP_PASSWORD_NAME_MAX) });

export interface AppPasswordPagesDeps extends CreateAppPasswordDeps {
  requireFresh: RequireFresh;
  appPasswords: AppPasswords;
  shownOnce: ShownOnce;
}

/** The pages' routes, relative to the Security router they are mounted in (which signs the user in). */
export function createAppPasswordPages(deps: AppPasswordPagesDeps) {
  const router = new Router<AccountState>();
  const { appPasswords, shownOnce } = deps;
  const whenFresh = deps.requireFresh.action(PATH);
  const opts = { limit: '16kb' };

  async function listPage(ctx: AccountCtx, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = ctx.state;
    const [rows, offered] = await Promise.all([appPasswords.list(account.id), appPasswordsOffered(deps, account.id)]);
    const done = ctx.query.done === 'revoked' ? 'revoked' : '';
    const n = Number(ctx.query.n);
    renderPage(
      ctx,
      'app-passwords',
      { rows, offered, zone: account.zoneinfo, done, n: Number.isInteger(n) && n >= 0 ? n : 0, values: {}, ...extra },
      status,
    );
  }
  router.get(HERE, (ctx) => listPage(ctx));

  async function create(ctx: AccountCtx, input: z.output<typeof NewForm>) {
    const { secret, row } = await createAppPassword(deps, ctx.state.account, input.name, requestInfo(ctx));
    const id = await shownOnce.keep(ctx, 'app-password', { secret, appPasswordId: row.id });
    seeOther(ctx, `${PATH}/created?shown=${id}`);
  }
  const createView = (ctx: AccountCtx, f: FormState, status: number) => listPage(ctx, formData(f), status);
  router.post(HERE, form(NewForm, whenFresh(create), createView, opts));

  // The app password the POST before made, the first time only; a reload says it was shown once.
  router.get(`${HERE}/created`, async (ctx) => {
    const { account } = ctx.state;
    const shown = await shownOnce.take(ctx, 'app-password', ctx.query.shown);
    const row = shown && (await appPasswords.list(account.id)).find((r) => r.id === shown.appPasswordId);
    renderPage(ctx, 'app-password-created', { secret: row ? shown.secret : undefined, row, username: account.email });
  });

  /** The app password named in the URL, if it is this account's (not found otherwise, like none). */
  async function ownRow(ctx: AccountCtx) {
    const id = String(ctx.params.id);
    const row = uuidParam.safeParse(id).success
      ? (await appPasswords.list(ctx.state.account.id)).find((r) => r.id === id)
      : undefined;
    if (!row) throw new AppError('not_found');
    return row;
  }
  const revokePage = async (ctx: AccountCtx, error?: string, status = 200) =>
    renderPage(ctx, 'app-password-revoke', { row: await ownRow(ctx), zone: ctx.state.account.zoneinfo, error }, status);
  router.get(`${HERE}/:id/revoke`, (ctx) => revokePage(ctx));
  async function revoke(ctx: AccountCtx) {
    const row = await ownRow(ctx);
    const { revoked } = await appPasswords.revoke(ctx.state.account.id, [row.id], requestInfo(ctx));
    seeOther(ctx, `${PATH}?done=revoked&n=${revoked.length}`);
  }
  const revokeView = (ctx: AccountCtx, f: FormState, status: number) => revokePage(ctx, f.error, status);
  router.post(`${HERE}/:id/revoke`, form(NoFields, revoke, revokeView, opts));

  addRevokeAllRoutes(router, {
    list: PATH,
    here: HERE,
    view: 'app-passwords-revoke-all',
    count: (accountId) => appPasswords.count(accountId),
    revokeAll: (accountId, by) => appPasswords.revokeAll(accountId, by),
    opts,
  });
  return router;
}
