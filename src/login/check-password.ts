// The one password check, for signing in and for confirming it is you (re-authentication): rate
// limits per IP and per account, a lockout reservation, then argon2id. A wrong email, a wrong
// password and a locked account take the same path and the same work (one argon2 verify — a dummy
// one when there is nothing to check) and give the same answer. A wrong password for a real account
// is logged and may alert its owner; a right one is rehashed when the parameters changed.
import type { Config } from '../config.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { CREDENTIAL_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { Lockout } from './lockout.ts';
import type { Alerts } from './alerts.ts';
import type { Metrics } from '../lib/metrics.ts';

export interface PasswordCheck {
  /** The account named by email (sign-in) or already known (re-authentication). */
  email: string;
  account?: Account;
  password: string;
  /** What a refusal says: sign-in is vague about which part was wrong; re-authentication is not. */
  refusal: 'invalid_credentials' | 'wrong_password';
}

export function createCheckPassword(deps: {
  config: Config;
  accounts: AccountsRepo;
  password: PasswordFactor;
  limiter: RateLimiter;
  lockout: Lockout;
  activity: ActivityRepo;
  alerts: Alerts;
  metrics?: Metrics;
}) {
  const { config, accounts, password, limiter, lockout } = deps;
  /** The account whose password this is, or an AppError (rate_limited or the refusal). */
  const check = async function checkPassword(check: PasswordCheck, info: RequestInfo): Promise<Account> {
    // Every check counts, per IP and per account, atomically (parallel guesses cannot slip past);
    // a right password starts the account's window over, so its owner's own sign-ins and password
    // confirmations never lock them out. A browser the account trusts (lockout.ts) has its own
    // window and its own lockout budget: strangers spending theirs cannot shut it out.
    if (!(await limiter.hit('login-ip', info.ip, config.rateLimits.loginPerIp, CREDENTIAL_WINDOW_SECONDS)))
      throw new AppError('rate_limited');
    const account = check.account ?? (await accounts.findByEmail(check.email));
    const device = account && (await lockout.trustedDevice(account.id, info));
    const windowKey = device ? `${check.email}:${device}` : check.email;
    if (!(await limiter.hit('login-account', windowKey, config.rateLimits.loginPerAccount, CREDENTIAL_WINDOW_SECONDS)))
      throw new AppError('rate_limited');
    // The attempt is reserved before the slow check, so parallel guesses cannot exceed the threshold.
    const attempt = account ? await lockout.reserve('password', account, info, device) : undefined;
    if (!account || !attempt) {
      await password.verify(undefined, check.password);
      throw new AppError(check.refusal);
    }
    const result = await password.verify(account.passwordHash, check.password);
    if (!result.ok) await deps.activity.record({ ...info, accountId: account.id, type: 'sign_in_failed' });
    await attempt.settle(result.ok);
    if (!result.ok) {
      await deps.alerts.afterWrongPassword(account, info);
      throw new AppError(check.refusal);
    }
    await limiter.reset('login-account', windowKey);
    if (result.rehash) await accounts.setPasswordHash(account.id, result.rehash);
    return account;
  };
  const { metrics } = deps;
  if (!metrics) return check;
  /** Sign-ins' password steps, counted (a re-authentication is not a sign-in). */
  return async function countedCheck(c: PasswordCheck, info: RequestInfo): Promise<Account> {
    if (c.refusal !== 'invalid_credentials') return check(c, info);
    try {
      return await check(c, info);
    } catch (err) {
      const code = err instanceof AppError ? err.code : undefined;
      if (code === 'rate_limited') metrics.signIn('rate_limited', 'pwd');
      else if (code === c.refusal) metrics.signIn('wrong_password', 'pwd');
      throw err;
    }
  };
}
export type CheckPassword = ReturnType<typeof createCheckPassword>;
