// Lockout: each account chooses after how many failed attempts it locks (3–50, default 10). Wrong
// passwords and wrong second-factor answers have separate budgets. An attempt is reserved (atomic
// INCR) before the answer is checked, so parallel guesses never get more tries than the threshold;
// a right answer gives its attempt back. A locked account refuses every sign-in exactly like a
// wrong password. Only a completed sign-in, an unlock link (plus a second factor when 2FA is on) or
// `sesame user unlock` clears it.
import type { Config } from '../config.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { FailureCounter, FailureKind } from '../factors/failure-counter.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails } from '../notify/emails.ts';
import { isLocale } from '../http/i18n.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { hmac, randomToken } from '../lib/crypto.ts';

export const LOCKOUT_MIN = 3;
export const LOCKOUT_MAX = 50;
const UNLOCK_PURPOSE = 'unlock';
const UNLOCK_TTL_MS = 24 * 3600 * 1000;

export function createLockout(deps: { config: Config; accounts: AccountsRepo; failures: FailureCounter; tokens: OneTimeTokensRepo; activity: ActivityRepo; mailer: Mailer }) {
  const { config, accounts, failures, tokens, activity } = deps;
  const hashOf = (token: string) => hmac(config.hashKey, `${UNLOCK_PURPOSE}:${token}`);

  async function lock(account: Account, kind: FailureKind, info: RequestInfo) {
    if (!(await accounts.lock(account.id))) return; // already locked: one email, one log line
    await activity.record({ accountId: account.id, type: 'locked', ip: info.ip, device: info.device, clientId: info.clientId, application: info.application, details: { after: kind } });
    await tokens.voidAll(account.id, UNLOCK_PURPOSE);
    const token = randomToken(32);
    await tokens.create({ tokenHash: hashOf(token), purpose: UNLOCK_PURPOSE, accountId: account.id, expiresAt: new Date(Date.now() + UNLOCK_TTL_MS) });
    const locale = isLocale(account.locale) ? account.locale : 'en';
    await deps.mailer.send(emails.accountLocked(locale, account.zoneinfo, account.email, {
      attempts: account.lockoutThreshold, when: new Date(), ip: info.ip, link: `${config.issuer}/unlock?token=${token}`,
    }));
  }

  async function unlock(accountId: string, via: 'link' | 'cli', info?: RequestInfo): Promise<boolean> {
    const was = await accounts.unlock(accountId);
    await failures.reset(accountId);
    await tokens.voidAll(accountId, UNLOCK_PURPOSE);
    if (was) await activity.record({ accountId, type: 'unlocked', ip: info?.ip, device: info?.device, details: { via } });
    return was;
  }

  return {
    unlock,
    /** Before checking an answer: reserves one attempt (atomic INCR). Undefined when the account is
     *  locked or this attempt is over budget (which locks it); otherwise settle() the attempt with
     *  the outcome: a right answer gives it back, the wrong one that reached the threshold locks. */
    async reserve(kind: FailureKind, account: Account, info: RequestInfo): Promise<{ settle(ok: boolean): Promise<void> } | undefined> {
      if (account.lockedAt) return undefined;
      const n = await failures.record(kind, account.id);
      if (n > account.lockoutThreshold) {
        await lock(account, kind, info);
        return undefined;
      }
      return {
        async settle(ok) {
          if (ok) await failures.release(kind, account.id);
          else if (n >= account.lockoutThreshold) await lock(account, kind, info);
        },
      };
    },
    /** The unlock link's account, if the link is still good (not spent by looking). */
    async linkAccount(token: string): Promise<Account | undefined> {
      if (!/^[\w-]{20,100}$/.test(token)) return undefined;
      const row = await tokens.peek(hashOf(token), UNLOCK_PURPOSE);
      return row ? accounts.findById(row.accountId) : undefined;
    },
    /** Spends the link (atomically) and unlocks. */
    async unlockWithLink(token: string, info: RequestInfo): Promise<boolean> {
      const row = /^[\w-]{20,100}$/.test(token) ? await tokens.consume(hashOf(token), UNLOCK_PURPOSE) : undefined;
      if (!row) return false;
      await unlock(row.accountId, 'link', info);
      return true;
    },
  };
}
export type Lockout = ReturnType<typeof createLockout>;
