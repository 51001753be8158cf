// "Sudo mode" for sensitive changes (adding or removing a second factor, disabling 2FA, new backup
// codes): a sign-in within the last REAUTH_WINDOW_SECONDS, or the password typed again, which then
// holds for five minutes for this session only.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { PasswordFactor } from '../factors/password.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Lockout } from './lockout.ts';
import { requestInfo } from '../http/request-info.ts';
import type { Config } from '../config.ts';

const SUDO_TTL = 5 * 60;
const WINDOW = 15 * 60;

export function createReauth(deps: { provider: Provider; store: Store; password: PasswordFactor; limiter: RateLimiter; lockout: Lockout; config: Config }) {
  const { provider, store, config } = deps;
  const sessionOf = async (ctx: Ctx) => provider.Session.get(ctx as never);
  const key = (jti: string) => `sudo:${jti}`;

  async function check(ctx: Ctx, account: Account, plaintext: string): Promise<'ok' | 'invalid_credentials' | 'rate_limited'> {
    const [ipOk, accountOk] = await Promise.all([
      deps.limiter.hit('login-ip', ctx.ip, config.rateLimits.loginPerIp, WINDOW),
      deps.limiter.hit('login-account', account.email, config.rateLimits.loginPerAccount, WINDOW),
    ]);
    if (!ipOk || !accountOk) return 'rate_limited';
    // Counted like a sign-in: a stolen session cannot guess the password here either.
    const info = requestInfo(ctx);
    const attempt = await deps.lockout.reserve('password', account, info);
    if (!attempt) {
      await deps.password.verify(undefined, plaintext);
      return 'invalid_credentials';
    }
    const result = await deps.password.verify(account.passwordHash, plaintext);
    await attempt.settle(result.ok);
    return result.ok ? 'ok' : 'invalid_credentials';
  }

  return {
    /** The current password, for changes that ask for it in their own form. */
    check,
    async isFresh(ctx: Ctx): Promise<boolean> {
      const session = await sessionOf(ctx);
      if (!session.accountId) return false;
      const age = Math.floor(Date.now() / 1000) - (session.loginTs ?? 0);
      if (age < config.reauthWindowSeconds) return true;
      return (await store.get(key(session.jti))) === session.accountId;
    },
    /** Checks the password (rate-limited and counted like a sign-in) and opens sudo mode. */
    async confirm(ctx: Ctx, account: Account, plaintext: string): Promise<'ok' | 'invalid_credentials' | 'rate_limited'> {
      const result = await check(ctx, account, plaintext);
      if (result !== 'ok') return result;
      const session = await sessionOf(ctx);
      await store.set(key(session.jti), account.id, SUDO_TTL);
      return 'ok';
    },
  };
}
export type Reauth = ReturnType<typeof createReauth>;
