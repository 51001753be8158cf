// "Sudo mode" for sensitive changes (adding or removing a second factor, disabling 2FA, new backup
// codes): a sign-in within the last REAUTH_WINDOW_SECONDS, or the password typed again, which then
// holds for five minutes for this session only. The password goes through the same checkPassword as
// a sign-in: counted, logged, alerted — a stolen session cannot guess the password here either.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import type { Store } from '../store/store.ts';
import type { Account } from '../db/repositories/accounts.ts';
import { requestInfo } from '../http/request-info.ts';
import type { Config } from '../config.ts';
import type { CheckPassword } from './check-password.ts';
import { sessionOf } from '../oidc/session.ts';

const SUDO_TTL = 5 * 60;

export function createReauth(deps: { provider: Provider; store: Store; checkPassword: CheckPassword; config: Config }) {
  const { provider, store, config } = deps;
  const key = (jti: string) => `sudo:${jti}`;

  /** The current password, for changes that ask for it in their own form; AppError when wrong. */
  async function check(ctx: Ctx, account: Account, password: string): Promise<void> {
    await deps.checkPassword({ email: account.email, account, password, refusal: 'wrong_password' }, requestInfo(ctx));
  }

  return {
    check,
    async isFresh(ctx: Ctx): Promise<boolean> {
      const session = await sessionOf(provider, ctx);
      if (!session.accountId) return false;
      // oidc-provider stamps loginTs with the system time: compare with the same clock.
      const age = Math.floor(Date.now() / 1000) - (session.loginTs ?? 0);
      if (age < config.reauthWindowSeconds) return true;
      return (await store.get(key(session.jti))) === session.accountId;
    },
    /** Checks the password and opens sudo mode for this session. */
    async confirm(ctx: Ctx, account: Account, password: string): Promise<void> {
      await check(ctx, account, password);
      const session = await sessionOf(provider, ctx);
      await store.set(key(session.jti), account.id, SUDO_TTL);
    },
  };
}
export type Reauth = ReturnType<typeof createReauth>;
