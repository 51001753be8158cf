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
import { isLinkToken, randomToken } from '../lib/crypto.ts';

const SUDO_TTL = 5 * 60;
/** A change waiting for the password: time enough to find and type it. */
const PENDING_TTL = 10 * 60;

/** A form submission held while the password is confirmed: where it went and what was typed (never
 *  a secret: form fields that are, are not kept — see keepableValues in http/form.ts). */
export interface PendingChange {
  path: string;
  values: Record<string, string>;
}

export function createReauth(deps: { provider: Provider; store: Store; checkPassword: CheckPassword; config: Config }) {
  const { provider, store, config } = deps;
  const key = (jti: string) => `sudo:${jti}`;
  // Bound to the session: another browser with the id finds nothing and spends nothing.
  const pendingKey = (jti: string, id: string) => `sudo-pending:${jti}:${id}`;

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
    /** Holds a change that asked for the password; returns the id the confirmation page carries. */
    async keepPending(ctx: Ctx, change: PendingChange): Promise<string | undefined> {
      const session = await sessionOf(provider, ctx);
      if (!session.accountId) return undefined;
      const id = randomToken(24);
      const value = JSON.stringify({ accountId: session.accountId, ...change });
      await store.set(pendingKey(session.jti, id), value, PENDING_TTL);
      return id;
    },
    /** The change held under `id` for this session and account, once (GETDEL). */
    async takePending(ctx: Ctx, id: unknown): Promise<PendingChange | undefined> {
      if (!isLinkToken(id)) return undefined;
      const session = await sessionOf(provider, ctx);
      if (!session.accountId) return undefined;
      const raw = await store.getDel(pendingKey(session.jti, id));
      if (!raw) return undefined;
      const { accountId, path, values } = JSON.parse(raw) as PendingChange & { accountId: string };
      return accountId === session.accountId ? { path, values } : undefined;
    },
  };
}
export type Reauth = ReturnType<typeof createReauth>;
