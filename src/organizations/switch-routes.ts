// The organization switcher on every account page: a small form posting the chosen organization;
// the choice is remembered on the account (every device shows the same current organization).
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountState, AccountCtx } from '../http/context.ts';
import { seeOther } from '../http/render.ts';
import { form } from '../http/form.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import { safeReturnPath } from '../http/return-path.ts';
import { AppError } from '../errors.ts';

const SwitchForm = z.object({ organization_id: z.string().trim().max(64), back: z.string().max(2000).optional() });

export function createSwitchRouter(deps: {
  accountSession: AccountSession;
  repos: { organizations: OrganizationsRepo; accounts: AccountsRepo };
}) {
  const router = new Router<AccountState>({ prefix: '/account/organizations' });
  router.use(deps.accountSession.requireAccount);
  async function switchTo(ctx: AccountCtx, input: z.output<typeof SwitchForm>) {
    const { account } = ctx.state;
    // Only an organization the account belongs to: any other id is refused like an unknown one.
    const membership = await deps.repos.organizations.membership(input.organization_id, account.id);
    if (!membership) throw new AppError('not_found');
    await deps.repos.accounts.setCurrentOrganization(account.id, input.organization_id);
    // Back to the page the switch was made on, unless it belonged to the previous organization.
    const back = safeReturnPath(input.back ?? '');
    // One application's pages belong to its organization too: back to the new one's list.
    if (back && /^\/account\/applications\/[^/?]+/.test(back) && !back.startsWith('/account/applications/new'))
      return seeOther(ctx, '/account/applications');
    seeOther(ctx, back && !back.startsWith('/account/organizations/') ? back : '/account');
  }
  router.post('/switch', form(SwitchForm, switchTo, undefined, { limit: '8kb' }));
  return router;
}
