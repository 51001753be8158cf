// "Revoke all" for a kind of credential an account holds (API tokens, app passwords): a GET page that
// asks to confirm (sent back to the list when there is nothing to revoke) and its POST, which needs
// confirm=yes, revokes every one and lands on the list saying how many went.
import type Router from '@koa/router';
import { z } from 'zod';
import type { AccountCtx, AccountState } from './context.ts';
import { renderPage, seeOther } from './render.ts';
import { form, type FormOptions } from './form.ts';
import { requestInfo, type RequestInfo } from './request-info.ts';
import { AppError } from '../errors.ts';

const RevokeAllForm = z.object({ confirm: z.literal('yes') });

export interface RevokeAllRoutes {
  /** The list's address (where the POST lands) and these routes' address within `router`. */
  list: string;
  here: string;
  view: string;
  count(accountId: string): Promise<number>;
  revokeAll(accountId: string, by: RequestInfo): Promise<unknown[]>;
  opts: FormOptions;
}

export function addRevokeAllRoutes(router: Router<AccountState>, r: RevokeAllRoutes): void {
  const page = async (ctx: AccountCtx, error?: string, status = 200) => {
    const n = await r.count(ctx.state.account.id);
    if (!n) return seeOther(ctx, r.list);
    renderPage(ctx, r.view, { n, error }, status);
  };
  router.get(`${r.here}/revoke-all`, (ctx) => page(ctx));
  async function revokeAll(ctx: AccountCtx) {
    const revoked = await r.revokeAll(ctx.state.account.id, requestInfo(ctx));
    seeOther(ctx, `${r.list}?done=revoked&n=${revoked.length}`);
  }
  const opts = { ...r.opts, invalid: () => new AppError('confirm_required') };
  router.post(
    `${r.here}/revoke-all`,
    form(RevokeAllForm, revokeAll, (ctx, f, status) => page(ctx, f.error, status), opts),
  );
}
