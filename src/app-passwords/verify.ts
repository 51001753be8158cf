// The sync channel's one credential check: a login (the account's email) and a password from a tool
// that cannot do two-step verification, arriving through the forward-auth endpoint (reverse proxies
// in front of WebDAV/CalDAV/CardDAV: forward-auth.ts) or the password grant (Dovecot's oauth2 passdb:
// password-grant.ts).
//  - An app password of the account is accepted, unless the account is locked (the web lockout) or
//    blocked by one of its organizations.
//  - The account password is accepted only on the forward-auth channel, only while the account has no
//    second factor and no organization of it requires one, and on its own lockout budget: the same
//    threshold as the sign-in page, an attempt reserved before the check (parallel guesses get no
//    more), locked until a completed web sign-in or an unlock. Its wrong guesses never lock the web.
//  - Failures are limited per IP and per login in their own windows (the sign-in page's numbers):
//    past the address's, nothing from it is checked; past the login's, only an app password is (it
//    cannot be guessed, and strangers' wrong guesses must not cut its owner's sync tools off).
//  - Every refusal costs one argon2id verify (a dummy one when there is nothing to check) and gives
//    the same answer, whether the account exists, has 2FA, is locked or blocked.
//  - A success is remembered in this process's memory for CACHE_SECONDS (a sync burst costs one HMAC,
//    no query and no argon2), keyed by an HMAC of the login and password; a failure never is. Any
//    change to the account's credentials (store/account-changes.ts) drops its entries on every node.
import type { Config } from '../config.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { AccountChanges } from '../store/account-changes.ts';
import type { AppPasswordsRepo, AppPasswordRow } from '../db/repositories/app-passwords.ts';
import type { Account } from '../db/repositories/accounts.ts';
import { normalizeEmail } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';
import { CREDENTIAL_WINDOW_SECONDS } from '../http/rate-limit.ts';
import { hmac } from '../lib/crypto.ts';
import { hashAppPassword, normalizeAppPassword } from './format.ts';

/** How long a success is remembered (per node). */
export const CACHE_SECONDS = 60;
/** The cache forgets its oldest entries past this many (memory stays bounded). */
const CACHE_MAX = 20_000;
/** How often a use is written down at most, per app password and node (a new network: at once). */
const TOUCH_EVERY_MS = 60_000;
/** Networks remembered per app password. */
const NETWORKS_KEPT = 20;

export type SyncChannel = 'forward_auth' | 'password_grant';

export interface SyncCheck {
  login: string;
  password: string;
  channel: SyncChannel;
  /** What the tool reached, for the list's "last used" (e.g. "imap", "dav.example.com"). */
  service?: string | null;
  ip: string;
}

export type SyncResult =
  | {
      ok: true;
      account: Pick<Account, 'id' | 'userId' | 'email' | 'name'>;
      /** What was accepted: one of the account's app passwords, or its password (2FA off). */
      via: 'app_password' | 'password';
      appPasswordId?: string;
      cached: boolean;
    }
  | { ok: false; reason: 'invalid' | 'rate_limited' };

interface Cached {
  result: Extract<SyncResult, { ok: true }>;
  /** The app password accepted, for its last use (undefined: the account password). */
  row: AppPasswordRow | undefined;
  until: number;
}

/** The network an address is in, for "used from a new network": IPv4 /24, IPv6 /64. */
export function networkOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups
      .slice(0, 4)
      .map((g) => parseInt(g || '0', 16).toString(16))
      .join(':')}::/64`;
  }
  return ip;
}

export interface SyncVerifierDeps {
  config: Pick<Config, 'hashKey' | 'rateLimits'>;
  clock: Clock;
  logger: Logger;
  store: Store;
  repo: AppPasswordsRepo;
  activity: ActivityRepo;
  password: PasswordFactor;
  accountChanges: AccountChanges;
}

export function createSyncVerifier(deps: SyncVerifierDeps) {
  const { config, clock, store, repo } = deps;
  const cache = new Map<string, Cached>();
  const byAccount = new Map<string, Set<string>>();
  const touched = new Map<string, number>();
  const inFlight = new Map<string, Promise<SyncResult>>();

  function forget(accountId: string) {
    for (const key of byAccount.get(accountId) ?? []) cache.delete(key);
    byAccount.delete(accountId);
  }
  deps.accountChanges.onChange(forget);

  function remember(key: string, result: Extract<SyncResult, { ok: true }>, row: AppPasswordRow | undefined) {
    if (cache.size >= CACHE_MAX) {
      cache.clear();
      byAccount.clear();
    }
    cache.set(key, { result: { ...result, cached: true }, row, until: clock.now() + CACHE_SECONDS * 1000 });
    let keys = byAccount.get(result.account.id);
    if (!keys) byAccount.set(result.account.id, (keys = new Set()));
    keys.add(key);
  }

  // Failure windows: own buckets, the sign-in page's numbers. Checked before any work, counted only
  // on a failure (a sync burst of right answers spends nothing).
  const buckets = (check: SyncCheck) => [
    { key: `rl:sync-ip:${check.ip}`, limit: config.rateLimits.loginPerIp },
    { key: `rl:sync-login:${normalizeEmail(check.login)}`, limit: config.rateLimits.loginPerAccount },
  ];
  /** Which windows are spent: the address's (nothing is checked from it), the login's (only an app
   *  password is: it cannot be guessed, and a stranger's wrong guesses must not cut the owner's sync
   *  tools off — while the account password, and its argon2 work, wait for the window to pass). */
  async function spent(check: SyncCheck): Promise<{ ip: boolean; login: boolean }> {
    const windows = buckets(check);
    const counts = await Promise.all(windows.map((b) => store.get(b.key)));
    const [ip, login] = windows.map((b, i) => Number(counts[i] ?? 0) >= b.limit);
    return { ip: ip === true, login: login === true };
  }
  async function countFailure(check: SyncCheck) {
    await Promise.all(buckets(check).map((b) => store.incr(b.key, CREDENTIAL_WINDOW_SECONDS)));
  }

  /** Written after the answer; a failure loses one last-use time, never the request. */
  function noteUse(row: AppPasswordRow, check: SyncCheck, accountId: string) {
    const now = clock.now();
    const network = networkOf(check.ip);
    const isNew = !row.networks.includes(network);
    const last = touched.get(row.id) ?? row.lastUsedAt?.getTime() ?? 0;
    if (!isNew && now - last < TOUCH_EVERY_MS) return;
    if (touched.size >= CACHE_MAX) touched.clear();
    touched.set(row.id, now);
    const networks = isNew ? [...row.networks, network].slice(-NETWORKS_KEPT) : undefined;
    if (networks) row.networks = networks;
    setImmediate(() => {
      const service = check.service ?? null;
      const write = async () => {
        await repo.touch(row.id, { at: new Date(now), ip: check.ip, service, networks });
        // The first use is not "new" to anyone: only a network after the first one is logged.
        if (networks && networks.length > 1)
          await deps.activity.record({
            accountId,
            type: 'app_password_new_network',
            ip: check.ip,
            device: service,
            details: { name: row.name, service, network },
          });
      };
      write().catch((err: unknown) =>
        deps.logger.warn({ err, appPasswordId: row.id }, 'app password use not recorded'),
      );
    });
  }

  /** The account password, on its own budget (see the top of this file). */
  async function accountPassword(account: Account, check: SyncCheck): Promise<boolean> {
    const n = await repo.reserveSyncAttempt(account.id);
    if (n === undefined || n > account.lockoutThreshold) {
      if (n !== undefined) await lockSync(account, check);
      await deps.password.verify(undefined, check.password);
      return false;
    }
    const { ok } = await deps.password.verify(account.passwordHash, check.password);
    if (ok) await repo.releaseSyncAttempt(account.id);
    else if (n >= account.lockoutThreshold) await lockSync(account, check);
    return ok;
  }
  async function lockSync(account: Account, check: SyncCheck) {
    if (await repo.lockSync(account.id, new Date(clock.now())))
      await deps.activity.record({
        accountId: account.id,
        type: 'sync_locked',
        ip: check.ip,
        device: check.service ?? null,
        details: { attempts: account.lockoutThreshold },
      });
  }

  async function check(input: SyncCheck): Promise<SyncResult> {
    if (!input.login || input.login.length > 320 || !input.password || input.password.length > MAX_PASSWORD_LENGTH)
      return { ok: false, reason: 'invalid' };
    // The network is part of the key: a use from a new one is looked up, and logged.
    const who = `${input.channel}:${networkOf(input.ip)}:${normalizeEmail(input.login)}`;
    const cacheKey = hmac(config.hashKey, `sync:${who}\0${input.password}`);
    const hit = cache.get(cacheKey);
    if (hit && hit.until > clock.now()) {
      if (hit.row) noteUse(hit.row, input, hit.result.account.id);
      return hit.result;
    }
    if (hit) cache.delete(cacheKey);
    // Parallel first checks of one credential (a sync client's connections) share one lookup: one
    // query, one argon2, one attempt of the account password's budget (24 at once must not lock it).
    const pending = inFlight.get(cacheKey);
    if (pending) return pending;
    const answer = lookUp(input, cacheKey).finally(() => inFlight.delete(cacheKey));
    inFlight.set(cacheKey, answer);
    return answer;
  }

  async function lookUp(input: SyncCheck, cacheKey: string): Promise<SyncResult> {
    const limited = await spent(input);
    if (limited.ip) return { ok: false, reason: 'rate_limited' };

    const appSecret = normalizeAppPassword(input.password);
    const found = await repo.findForLogin(input.login, appSecret && hashAppPassword(config.hashKey, appSecret));
    const usable = found && !found.account.lockedAt && !found.blocked;
    let result: SyncResult = { ok: false, reason: 'invalid' };
    if (usable && found.appPassword) {
      result = {
        ok: true,
        account: found.account,
        via: 'app_password',
        appPasswordId: found.appPassword.id,
        cached: false,
      };
      noteUse(found.appPassword, input, found.account.id);
    } else if (limited.login) {
      result = { ok: false, reason: 'rate_limited' };
    } else if (
      usable &&
      input.channel === 'forward_auth' &&
      !found.has2fa &&
      !found.orgRequires2fa &&
      !found.account.syncLockedAt
    ) {
      if (await accountPassword(found.account, input))
        result = { ok: true, account: found.account, via: 'password', cached: false };
    } else {
      // Nothing to check, or nothing that may be checked: the same work as a wrong password.
      await deps.password.verify(undefined, input.password);
    }
    if (!result.ok) {
      await countFailure(input);
      if (found && !limited.login)
        await deps.activity.record({
          accountId: found.account.id,
          type: 'sync_sign_in_failed',
          ip: input.ip,
          device: input.service ?? null,
          details: { channel: input.channel },
        });
      return result;
    }
    // The right account password starts the login's failure window over, as on the sign-in page (an
    // app password does not: its tool's steady use would keep reopening the window for a guesser).
    if (result.via === 'password') await store.del(`rl:sync-login:${normalizeEmail(input.login)}`);
    const { id, userId, email, name } = result.account;
    result = { ...result, account: { id, userId, email, name } };
    remember(cacheKey, result, found?.appPassword);
    return result;
  }

  return {
    check,
    /** Successes this node remembers (tests of the cache). */
    cacheSize: () => cache.size,
  };
}
export type SyncVerifier = ReturnType<typeof createSyncVerifier>;
