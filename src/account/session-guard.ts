// The self-service pages are a first-party client of Sesame itself: a browser without a Sesame
// session is sent through /authorize (so every sign-in, here too, goes through the one login flow).
import crypto from 'node:crypto';
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import type { Config } from '../config.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import { setLocale } from '../http/locale.ts';
import { isLocale } from '../http/i18n.ts';
import { randomToken, constantTimeEqual } from '../lib/crypto.ts';
import { safeReturnPath } from '../http/return-path.ts';

const STATE_COOKIE = 'sesame.account_login';

export function createSessionGuard(deps: {
  provider: Provider; accounts: AccountsRepo; config: Config;
  /** Each account page seen marks the session active (the Sessions page shows it). */
  onActive?(sessionUid: string, accountId: string, ctx: Ctx): Promise<void>;
}) {
  const { provider, accounts, config } = deps;

  async function currentAccount(ctx: Ctx, touch = false): Promise<Account | undefined> {
    const session = await provider.Session.get(ctx as never);
    if (!session.accountId) return undefined;
    const account = await accounts.findById(session.accountId);
    if (account && touch) await deps.onActive?.(session.uid, account.id, ctx);
    return account;
  }

  function startLogin(ctx: Ctx) {
    const state = randomToken(16);
    const verifier = randomToken(32);
    const back = safeReturnPath(ctx.path) ?? '/account';
    ctx.cookies.set(STATE_COOKIE, `${state}.${back}`, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, path: '/account' });
    const q = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${config.issuer}/account/callback`,
      state,
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ui_locales: ctx.state.locale,
    });
    ctx.redirect(`/authorize?${q}`);
  }

  return {
    currentAccount,
    async require(ctx: Ctx, next: Next) {
      const account = await currentAccount(ctx, true);
      if (!account) return startLogin(ctx);
      ctx.state.accountId = account.id;
      (ctx.state as { account?: Account }).account = account;
      if (isLocale(account.locale)) setLocale(ctx, account.locale);
      await next();
    },
    /** Back from /authorize: the session cookie is set; the code is not needed and simply expires. */
    callback(ctx: Ctx) {
      const cookie = ctx.cookies.get(STATE_COOKIE) ?? '';
      const dot = cookie.indexOf('.');
      const state = dot > 0 ? cookie.slice(0, dot) : '';
      ctx.cookies.set(STATE_COOKIE, null, { path: '/account' });
      const ok = state && typeof ctx.query.state === 'string' && constantTimeEqual(state, ctx.query.state) && typeof ctx.query.code === 'string';
      ctx.redirect(ok ? safeReturnPath(cookie.slice(dot + 1)) ?? '/account' : '/');
    },
  };
}
export type SessionGuard = ReturnType<typeof createSessionGuard>;
