// The self-service pages are a first-party client of Sesame itself: a browser without a Sesame
// session is sent through /authorize (so every sign-in, here too, goes through the one login flow).
// requireAccount puts the signed-in account on ctx.state.account, typed, in its own language.
import crypto from 'node:crypto';
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Ctx, AccountCtx } from './context.ts';
import type { Config } from '../config.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import { setAccountLocale } from './locale.ts';
import { renderPage } from './render.ts';
import { randomToken, constantTimeEqual } from '../lib/crypto.ts';
import { safeReturnPath } from './return-path.ts';
import { describeBrowser } from '../lib/user-agent.ts';
import { sessionOf } from '../oidc/session.ts';

const STATE_COOKIE = 'sesame.account_login';

export function createAccountSession(deps: {
  provider: Provider;
  accounts: AccountsRepo;
  config: Config;
  /** Each account page seen marks the session active (the Sessions page shows it). */
  sessions: { touch(uid: string, accountId: string, seen: { ip: string; device: string }): Promise<void> };
  /** Run on every account page once the account is known, in order: what the page needs from other
   *  features (the organization switcher), and gates that may answer instead of the page (an
   *  organization requiring 2FA): a hook that returns true has answered. */
  accountPageHooks?: ReadonlyArray<(ctx: AccountCtx) => Promise<boolean | void>>;
}) {
  const { provider, accounts, config } = deps;

  async function currentAccount(ctx: Ctx, touch = false): Promise<Account | undefined> {
    const session = await sessionOf(provider, ctx);
    if (!session.accountId) return undefined;
    const account = await accounts.findById(session.accountId);
    if (account && touch)
      await deps.sessions.touch(session.uid, account.id, {
        ip: ctx.ip,
        device: describeBrowser(ctx.get('User-Agent')),
      });
    return account;
  }

  function startLogin(ctx: Ctx) {
    const state = randomToken(16);
    const verifier = randomToken(32);
    const back = safeReturnPath(ctx.path) ?? '/account';
    const cookie = { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, path: '/account' } as const;
    ctx.cookies.set(STATE_COOKIE, `${state}.${back}`, cookie);
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
    async requireAccount(ctx: AccountCtx, next: Next) {
      const account = await currentAccount(ctx, true);
      if (!account) return startLogin(ctx);
      // No sign-in finishes for an unconfirmed address (login/finish.ts); a session from before that
      // rule still reaches none of the account pages, so nothing set here can outlive verification.
      if (!account.emailVerified) return renderPage(ctx, 'verify-first', {}, 403);
      ctx.state.account = account;
      setAccountLocale(ctx, account);
      for (const hook of deps.accountPageHooks ?? []) if (await hook(ctx)) return;
      await next();
    },
    /** Back from /authorize: the session cookie is set; the code is not needed and simply expires. */
    callback(ctx: Ctx) {
      const cookie = ctx.cookies.get(STATE_COOKIE) ?? '';
      const dot = cookie.indexOf('.');
      const state = dot > 0 ? cookie.slice(0, dot) : '';
      ctx.cookies.set(STATE_COOKIE, null, { path: '/account' });
      const ok =
        state &&
        typeof ctx.query.state === 'string' &&
        constantTimeEqual(state, ctx.query.state) &&
        typeof ctx.query.code === 'string';
      ctx.redirect(ok ? (safeReturnPath(cookie.slice(dot + 1)) ?? '/account') : '/');
    },
  };
}
export type AccountSession = ReturnType<typeof createAccountSession>;
