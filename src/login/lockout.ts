// Lockout: each account chooses after how many failed attempts it locks (3–50, default 10). Wrong
// passwords and wrong second-factor answers have separate budgets. An attempt is reserved (one
// atomic UPDATE … RETURNING) before the answer is checked, so parallel guesses never get more tries
// than the threshold; a right answer gives its attempt back. A locked account refuses every sign-in
// exactly like a wrong password. Only a completed sign-in, an unlock link (plus a second factor when
// 2FA is on), a completed password reset by email or `sesame user unlock` clears it. The link is
// emailed when the account locks, and again on request ("unlock my account", account/recovery.ts).
// The lock and the counters live in the accounts row: one owner, whichever node or command changes
// them.
// Lockout must not be a denial of service (OWASP "device cookies"): a browser that has completed a
// sign-in to the account before (its device cookie, trusted_devices) has its own budget, with the
// same threshold, and its own lock. Strangers' guesses lock the account for every browser it does
// not know; its owner's usual browser still signs in, and only its own wrong answers lock it.
import type { Config } from '../config.ts';
import type { AccountsRepo, Account, FailureKind } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { hmac, randomToken, isLinkToken } from '../lib/crypto.ts';
import type { Clock } from '../lib/clock.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { TrustedDevicesRepo } from '../db/repositories/trusted-devices.ts';
import type { Ctx } from '../http/context.ts';
import type { AccountChanges } from '../store/account-changes.ts';
import { deviceHashOf, ensureDeviceCookie, sentDeviceCookie } from '../http/device-cookie.ts';

export const LOCKOUT_MIN = 3;
export const LOCKOUT_MAX = 50;
const UNLOCK_PURPOSE = 'unlock';
const UNLOCK_TTL_MS = 24 * 3600 * 1000;

export interface ReservedAttempt {
  /** A right answer gives the attempt back; the wrong one that reached the threshold locks. */
  settle(ok: boolean): Promise<void>;
}

export function createLockout(deps: {
  config: Config;
  accounts: AccountsRepo;
  trustedDevices: TrustedDevicesRepo;
  tokens: OneTimeTokensRepo;
  activity: ActivityRepo;
  mailer: Mailer;
  clock: Clock;
  limiter: RateLimiter;
  /** Told when the account locks: what nodes remember of its credentials goes. */
  accountChanges: Pick<AccountChanges, 'announce'>;
}) {
  const { config, accounts, trustedDevices, tokens, activity, clock } = deps;
  const hashOf = (token: string) => hmac(config.hashKey, `${UNLOCK_PURPOSE}:${token}`);

  /** A fresh unlock link; every earlier one stops working. */
  async function newLink(accountId: string): Promise<string> {
    await tokens.voidAll(accountId, UNLOCK_PURPOSE);
    const token = randomToken(32);
    const expiresAt = new Date(clock.now() + UNLOCK_TTL_MS);
    await tokens.create({ tokenHash: hashOf(token), purpose: UNLOCK_PURPOSE, accountId, expiresAt });
    return `${config.issuer}/unlock?token=${token}`;
  }

  /** Locks the account (for the browsers it does not know) or one trusted browser. */
  async function lock(account: Account, kind: FailureKind, info: RequestInfo, device: string | undefined) {
    const now = new Date(clock.now());
    const locked = device ? trustedDevices.lock(account.id, device, now) : accounts.lock(account.id, now);
    if (!(await locked)) return; // already locked: one email, one log line
    if (!device) deps.accountChanges.announce(account.id);
    const details = device ? { after: kind, browser: 'trusted' } : { after: kind };
    await activity.record({ ...info, accountId: account.id, type: 'locked', details });
    const link = await newLink(account.id);
    const mail = {
      attempts: account.lockoutThreshold,
      when: now,
      ip: info.ip,
      link,
      greet: greetingName(account, account.email),
    };
    await deps.mailer.send(emails.accountLocked(localeOf(account), account.zoneinfo, account.email, mail));
  }

  /** Unlocks and forgives every failed attempt; true when the account was locked. */
  async function unlock(
    accountId: string,
    via: 'link' | 'cli' | 'reset' | 'organization',
    info?: RequestInfo,
  ): Promise<boolean> {
    const [account, browser] = await Promise.all([accounts.unlock(accountId), trustedDevices.unlockAll(accountId)]);
    const was = account || browser;
    // Unlocked means the owner can sign in now: the sign-in rate limit of the address starts over too.
    const row = await accounts.findById(accountId);
    if (row) await deps.limiter.reset('login-account', row.email);
    await tokens.voidAll(accountId, UNLOCK_PURPOSE);
    if (was)
      await activity.record({ ip: info?.ip, device: info?.device, accountId, type: 'unlocked', details: { via } });
    return was;
  }

  /** The trusted browser (its device hash) a request comes from, for this account; no I/O without
   *  a device cookie. */
  async function trustedDevice(accountId: string, cookie: string | undefined): Promise<string | undefined> {
    if (!cookie) return undefined;
    const device = deviceHashOf(config.hashKey, cookie);
    return (await trustedDevices.isTrusted(accountId, device)) ? device : undefined;
  }

  return {
    unlock,
    /** Asked for again: a fresh link to `to` (the login or the recovery email), if still locked. */
    async sendLink(accountId: string, to: string): Promise<void> {
      const account = await accounts.findById(accountId);
      if (!account?.lockedAt) return;
      const link = await newLink(account.id);
      await deps.mailer.send(emails.unlockLink(localeOf(account), to, link, greetingName(account, to)));
    },
    trustedDevice: (accountId: string, info: RequestInfo) => trustedDevice(accountId, info.deviceCookie),
    /** Before checking an answer: reserves one attempt, from the trusted browser's budget when
     *  `device` is one (trustedDevice()), else from the account's. Undefined when that budget is
     *  locked or this attempt is over it (which locks it). */
    async reserve(
      kind: FailureKind,
      account: Account,
      info: RequestInfo,
      device: string | undefined,
    ): Promise<ReservedAttempt | undefined> {
      const n = device
        ? await trustedDevices.reserveAttempt(account.id, device, kind)
        : await accounts.reserveAttempt(account.id, kind);
      if (n === undefined) return undefined;
      if (n > account.lockoutThreshold) {
        await lock(account, kind, info, device);
        return undefined;
      }
      return {
        async settle(ok) {
          if (!ok) {
            if (n >= account.lockoutThreshold) await lock(account, kind, info, device);
          } else if (device) await trustedDevices.releaseAttempt(account.id, device, kind);
          else await accounts.releaseAttempt(account.id, kind);
        },
      };
    },
    /** A failure that reserved nothing (a push request denied on the phone). */
    countFailure: (kind: FailureKind, accountId: string) => accounts.countFailure(accountId, kind),
    /** After a completed sign-in, and nothing else: forgives the budget it used, and trusts this
     *  browser (its device cookie, given now if it had none) for the account from now on. */
    async signedIn(ctx: Ctx, accountId: string): Promise<void> {
      if (!(await trustedDevice(accountId, sentDeviceCookie(ctx)))) await accounts.resetFailures(accountId);
      await accounts.resetSync(accountId);
      await trustedDevices.trust(
        accountId,
        deviceHashOf(config.hashKey, ensureDeviceCookie(ctx)),
        new Date(clock.now()),
      );
    },
    /** The unlock link's account, if the link is still good (not spent by looking). */
    async linkAccount(token: string): Promise<Account | undefined> {
      if (!isLinkToken(token)) return undefined;
      const row = await tokens.peek(hashOf(token), UNLOCK_PURPOSE);
      return row ? accounts.findById(row.accountId) : undefined;
    },
    /** Spends the link (atomically) and unlocks. */
    async unlockWithLink(token: string, info: RequestInfo): Promise<boolean> {
      const row = isLinkToken(token) ? await tokens.consume(hashOf(token), UNLOCK_PURPOSE) : undefined;
      if (!row) return false;
      await unlock(row.accountId, 'link', info);
      return true;
    },
  };
}
export type Lockout = ReturnType<typeof createLockout>;
