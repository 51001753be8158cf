// The password step, without HTTP: rate limits, lockout, then the password factor. A wrong email,
// a wrong password and a locked account take the same path and the same time (an argon2 verify —
// a dummy one when there is nothing to check) and give the same answer.
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import type { Lockout } from '../account/lockout.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Account } from '../db/repositories/accounts.ts';

export type LoginOutcome = { ok: true; accountId: string } | { ok: false; reason: 'invalid_credentials' | 'rate_limited' };

const WINDOW = 15 * 60;

export function createLoginAttempt(deps: {
  accounts: AccountsRepo; password: PasswordFactor; limiter: RateLimiter; config: Config; lockout: Lockout; activity: ActivityRepo;
  /** Called after a wrong password for an existing account (alerts, issue 5). */
  onWrongPassword?(account: Account, info: RequestInfo): Promise<void>;
}) {
  const { accounts, password, limiter, config, lockout } = deps;
  return async function attempt(email: string, plaintext: string, info: RequestInfo): Promise<LoginOutcome> {
    const [ipOk, accountOk] = await Promise.all([
      limiter.hit('login-ip', info.ip, config.rateLimits.loginPerIp, WINDOW),
      limiter.hit('login-account', email, config.rateLimits.loginPerAccount, WINDOW),
    ]);
    if (!ipOk || !accountOk) return { ok: false, reason: 'rate_limited' };
    const account = await accounts.findByEmail(email);
    // The attempt is reserved before the slow check, so parallel guesses cannot exceed the threshold.
    const attempt = account ? await lockout.reserve('password', account, info) : undefined;
    if (!account || !attempt) {
      await password.verify(undefined, plaintext);
      return { ok: false, reason: 'invalid_credentials' };
    }
    const result = await password.verify(account.passwordHash, plaintext);
    if (!result.ok) await deps.activity.record({ accountId: account.id, type: 'sign_in_failed', ip: info.ip, device: info.device, clientId: info.clientId, application: info.application });
    await attempt.settle(result.ok);
    if (!result.ok) {
      await deps.onWrongPassword?.(account, info);
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (result.rehash) await accounts.setPasswordHash(account.id, result.rehash);
    return { ok: true, accountId: account.id };
  };
}
export type LoginAttempt = ReturnType<typeof createLoginAttempt>;
