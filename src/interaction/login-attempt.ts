// The password step, without HTTP: rate limits, then the password factor. A wrong email and a
// wrong password take the same path and the same time (a dummy argon2 verify for unknown emails).
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { PasswordFactor } from '../factors/password.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import type { FailureCounter } from '../factors/failure-counter.ts';

export type LoginOutcome = { ok: true; accountId: string } | { ok: false; reason: 'invalid_credentials' | 'rate_limited' };

const WINDOW = 15 * 60;

export function createLoginAttempt(deps: { accounts: AccountsRepo; password: PasswordFactor; limiter: RateLimiter; config: Config; failures: FailureCounter }) {
  const { accounts, password, limiter, config, failures } = deps;
  return async function attempt(email: string, plaintext: string, ip: string): Promise<LoginOutcome> {
    const [ipOk, accountOk] = await Promise.all([
      limiter.hit('login-ip', ip, config.rateLimits.loginPerIp, WINDOW),
      limiter.hit('login-account', email, config.rateLimits.loginPerAccount, WINDOW),
    ]);
    if (!ipOk || !accountOk) return { ok: false, reason: 'rate_limited' };
    const account = await accounts.findByEmail(email);
    const result = await password.verify(account?.passwordHash, plaintext);
    if (!account || !result.ok) {
      if (account) await failures.record('password', account.id);
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (result.rehash) await accounts.setPasswordHash(account.id, result.rehash);
    return { ok: true, accountId: account.id };
  };
}
export type LoginAttempt = ReturnType<typeof createLoginAttempt>;
