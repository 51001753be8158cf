// "Compromised password?" — one guided flow: a new password, then every app password and API token
// revoked (the revokers; those credentials come with a later issue), every other session ended,
// and the security settings to review.
import Router from '@koa/router';
import { z } from 'zod';
import type Provider from 'oidc-provider';
import type { AccountState, AccountCtx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { form, formData, newPasswordField, type FormState } from '../http/form.ts';
import { requestInfo, type RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { RequireFresh } from '../login/require-fresh.ts';
import type { ProfileService } from './profile-service.ts';
import type { Sessions } from './sessions.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import { sessionOf } from '../oidc/session.ts';

/** Revokes one kind of long-lived credential of an account (app passwords, API tokens, …); returns
 *  how many. `info`: who asked, for the activity log. */
export type CredentialRevoker = (accountId: string, info: RequestInfo) => Promise<number>;

const PATH = '/account/compromised';
const CompromisedForm = z.object({
  new_password: newPasswordField,
  new_password_again: z.string().max(MAX_PASSWORD_LENGTH),
});

export interface CompromisedDeps {
  accountSession: AccountSession;
  requireFresh: RequireFresh;
  profile: ProfileService;
  sessions: Sessions;
  provider: Provider;
  /** App passwords and API tokens will register theirs here when they exist. */
  revokers: CredentialRevoker[];
}

export function createCompromisedRouter(deps: CompromisedDeps) {
  const router = new Router<AccountState>({ prefix: PATH });
  router.use(deps.accountSession.requireAccount);
  const fresh = deps.requireFresh.page;
  const whenFresh = deps.requireFresh.action(PATH);
  const page = (ctx: AccountCtx, f: FormState, status: number) => renderPage(ctx, 'compromised', formData(f), status);

  async function recover(ctx: AccountCtx, input: z.output<typeof CompromisedForm>) {
    if (input.new_password !== input.new_password_again) throw new AppError('passwords_differ');
    const { account } = ctx.state;
    const current = (await sessionOf(deps.provider, ctx)).uid;
    const before = (await deps.sessions.list(account.id)).filter((s) => s.uid !== current).length;
    // 1. New password (this also ends every other session).
    await deps.profile.changePassword(account, input.new_password, requestInfo(ctx), current);
    // 2. App passwords and API tokens.
    let revoked = 0;
    for (const revoke of deps.revokers) revoked += await revoke(account.id, requestInfo(ctx));
    // 3. Review.
    renderPage(ctx, 'compromised-done', { sessionsEnded: before, credentialsRevoked: revoked });
  }

  router.get('/', fresh, (ctx) => renderPage(ctx, 'compromised', {}));
  router.post('/', form(CompromisedForm, whenFresh(recover), page, { limit: '8kb' }));
  return router;
}
