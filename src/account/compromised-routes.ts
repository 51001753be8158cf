// "Compromised password?" — one guided flow: a new password, then every app password and API token
// revoked (the hook below; those credentials come with a later issue), every other session ended,
// and the security settings to review.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import type Provider from 'oidc-provider';
import type { Next } from 'koa';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { parseForm } from '../http/forms.ts';
import { requestInfo } from '../http/request-info.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { SessionGuard } from './session-guard.ts';
import type { Reauth } from './reauth.ts';
import type { ProfileService } from './profile-service.ts';
import type { Sessions } from './sessions.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';

/** Revokes one kind of long-lived credential of an account (app passwords, API tokens, …); returns how many. */
export type CredentialRevoker = (accountId: string) => Promise<number>;

const Form = z.object({ new_password: z.string().min(1).max(MAX_PASSWORD_LENGTH), new_password_again: z.string().max(MAX_PASSWORD_LENGTH) });

export function createCompromisedRouter(deps: {
  csrf: Csrf; guard: SessionGuard; reauth: Reauth; profile: ProfileService; sessions: Sessions; provider: Provider;
  revokers: CredentialRevoker[];
}) {
  const router = new Router<SesameState>({ prefix: '/account/compromised' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '8kb' }), deps.guard.require);
  const accountOf = (ctx: Ctx) => (ctx.state as { account?: Account }).account!;
  async function fresh(ctx: Ctx, next: Next) {
    if (await deps.reauth.isFresh(ctx)) return next();
    ctx.status = 303;
    ctx.redirect(`/account/security/confirm-password?return=${encodeURIComponent('/account/compromised')}`);
  }

  router.get('/', fresh, (ctx) => renderPage(ctx, 'compromised', {}));
  router.post('/', fresh, async (ctx) => {
    const b = ctx.request.body as Record<string, unknown>;
    deps.csrf.verify(ctx, b?._csrf);
    const form = parseForm(Form, b);
    if (!form.ok) return renderPage(ctx, 'compromised', { error: 'invalid_input' }, 400);
    if (form.data.new_password !== form.data.new_password_again) return renderPage(ctx, 'compromised', { error: 'passwords_differ' }, 400);
    const account = accountOf(ctx);
    const current = (await deps.provider.Session.get(ctx as never)).uid;
    const before = (await deps.sessions.list(account.id)).filter((s) => s.uid !== current).length;
    // 1. New password (this also ends every other session).
    const problem = await deps.profile.changePassword(account, form.data.new_password, requestInfo(ctx), current);
    if (problem) return renderPage(ctx, 'compromised', { error: problem }, 400);
    // 2. App passwords and API tokens.
    let revoked = 0;
    for (const revoke of deps.revokers) revoked += await revoke(account.id);
    // 3. Review.
    renderPage(ctx, 'compromised-done', { sessionsEnded: before, credentialsRevoked: revoked });
  });
  return router;
}
