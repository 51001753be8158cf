// Forgotten password, forgotten login and "unlock my account", without HTTP. None reveals whether
// an account exists, or which recovery options it has: the answer is always the same, and it costs
// the same — before answering, every branch does the same lookups and rate-limit hits; what only an
// existing account gets (a link, a code, an SMS) is made and sent after the answer (notify/deferred.ts).
// Requests are rate-limited per IP and per address or number. A password reset ends every session;
// one by email also unlocks a locked account (proof of the mailbox, as the unlock link is).
import type { AccountChanges } from '../store/account-changes.ts';
import type { Config } from '../config.ts';
import { normalizeEmail, type AccountsRepo, type Account } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { assertPasswordAllowed } from '../factors/password.ts';
import { createSmsCodes } from '../factors/sms.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { SmsTransport } from '../notify/sms.ts';
import type { Deferred } from '../notify/deferred.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { smsTexts } from '../notify/sms-texts.ts';
import { translator, localeOf } from '../http/i18n.ts';
import { CREDENTIAL_WINDOW_SECONDS, MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import { AppError } from '../errors.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Store } from '../store/store.ts';
import type { Lockout } from '../login/lockout.ts';
import type { Sessions } from './sessions.ts';
import type { FreshStart } from './fresh-start.ts';
import type { AppPasswords } from '../app-passwords/service.ts';
import { hmac, randomToken, isLinkToken, decrypt } from '../lib/crypto.ts';

const RESET = 'reset_password';
const RESET_TTL_MS = 3600 * 1000;
const HOUR = MESSAGE_WINDOW_SECONDS;
/** How a reset link was earned: the mailbox (`email`) or the recovery mobile (`sms`). */
type ResetVia = 'email' | 'sms';

/** What the forgotten-login page was asked: the login by SMS to a recovery mobile, or by email to
 *  a recovery email. */
export type ForgotLoginRequest = { method: 'sms'; e164: string } | { method: 'email'; recoveryEmail: string };

export function createRecovery(deps: {
  config: Config;
  accounts: AccountsRepo;
  tokens: OneTimeTokensRepo;
  activity: ActivityRepo;
  password: PasswordFactor;
  /** Both send after the answer (deps.ts wires the deferred ones). */
  mailer: Mailer;
  sms: SmsTransport;
  deferred: Deferred;
  store: Store;
  limiter: RateLimiter;
  sessions: Sessions;
  lockout: Lockout;
  freshStart: FreshStart;
  accountChanges: Pick<AccountChanges, 'announce'>;
  /** A reset is a password change: every app password goes. */
  appPasswords: Pick<AppPasswords, 'revokeAll'>;
}) {
  const { config, accounts, tokens, limiter, deferred, store } = deps;
  const hashOf = (t: string) => hmac(config.hashKey, `${RESET}:${t}`);
  const toRecipient = (to: string) => limiter.hit('email', to, config.rateLimits.emailPerRecipient, HOUR);
  const toNumber = (e164: string) =>
    limiter.hit('sms-number', hmac(config.hashKey, `sms-number:${e164}`), config.rateLimits.smsPerNumber, HOUR);
  const codes = createSmsCodes({ store, hashKey: config.hashKey });
  const codeKey = (flow: string) => `recovery-code:${hmac(config.hashKey, `recovery-code:${flow}`)}`;
  const issuerHost = new URL(config.issuer).host;

  /** Every request first: per IP and per address (or number), whether or not an account matches. */
  async function gate(what: string, ip: string, address: string) {
    const allowed = await Promise.all([
      limiter.hit(`${what}-ip`, ip, config.rateLimits.loginPerIp, HOUR),
      limiter.hit(`${what}-address`, address, config.rateLimits.emailPerRecipient, HOUR),
    ]);
    if (allowed.includes(false)) throw new AppError('rate_limited');
  }

  /** The accounts an address opens, each with where its messages go: the account whose login it is
   *  (to it), and those whose recovery email it is (to that). Both lookups, always. */
  async function accountsFor(address: string): Promise<Array<{ account: Account; to: string }>> {
    const [byLogin, byRecovery] = await Promise.all([
      accounts.findByEmail(address),
      accounts.findByRecoveryEmail(address),
    ]);
    return [
      ...(byLogin ? [{ account: byLogin, to: byLogin.email }] : []),
      ...byRecovery.flatMap((a) => (a.recoveryEmail ? [{ account: a, to: a.recoveryEmail }] : [])),
    ];
  }

  async function newResetToken(a: Account, via: ResetVia, to?: string): Promise<string> {
    const token = randomToken(32);
    await tokens.create({
      tokenHash: hashOf(token),
      purpose: RESET,
      accountId: a.id,
      // Where the link went: on a never-verified account only its login address proves anything.
      data: { via, to },
      expiresAt: new Date(Date.now() + RESET_TTL_MS),
    });
    return token;
  }

  /** The account a link resets. A never-verified account takes only a link sent to its login
   *  address: a recovery address was set by whoever signed up, perhaps someone else than its owner. */
  async function resetAccount(token: string): Promise<Account | undefined> {
    if (!isLinkToken(token)) return undefined;
    const row = await tokens.peek(hashOf(token), RESET);
    const a = row && (await accounts.findById(row.accountId));
    if (!a) return undefined;
    const toLogin = normalizeEmail(String(row.data.to ?? '')) === normalizeEmail(a.email);
    return a.emailVerified || toLogin ? a : undefined;
  }

  return {
    /** The account a reset link belongs to, if the link is still good (not spent by looking). */
    resetAccount,
    /** The address may be a login email or a recovery email; the link goes to that address. */
    async requestReset(address: string, ip: string): Promise<void> {
      await gate('recovery', ip, address);
      const targets = await accountsFor(address);
      deferred.later('password_reset', async () => {
        for (const { account, to } of targets) {
          if (!(await toRecipient(to))) continue;
          const token = await newResetToken(account, 'email', to);
          const link = `${config.issuer}/reset-password?token=${token}`;
          await deps.mailer.send(emails.passwordReset(localeOf(account), to, link, greetingName(account, to)));
        }
      });
    },
    /** A code by SMS to the recovery mobile of the account the address opens, if it has one. The
     *  answer is a new flow id either way: the page that asks for the code looks the same. */
    async requestResetCode(address: string, ip: string): Promise<string> {
      await gate('recovery', ip, address);
      const targets = await accountsFor(address);
      const flow = randomToken(32);
      const account = targets.find((t) => t.account.recoveryPhone)?.account;
      deferred.later('reset_code', async () => {
        if (!account?.recoveryPhone) return;
        const e164 = decrypt(config.encryptionKey, account.recoveryPhone);
        if (!(await toNumber(e164))) return;
        const key = codeKey(flow);
        const code = await codes.issue(key);
        await store.set(`${key}:who`, account.id, 10 * 60);
        await deps.sms.send({ to: e164, kind: 'reset_code', text: smsTexts.code(localeOf(account), code, issuerHost) });
      });
      return flow;
    },
    /** The texted code, right: a reset link's token for the account (spent when the password is set). */
    async resetTokenForCode(flow: string, code: string, ip: string): Promise<string> {
      if (!(await limiter.hit('recovery-code-ip', ip, config.rateLimits.loginPerIp, CREDENTIAL_WINDOW_SECONDS)))
        throw new AppError('rate_limited');
      const key = codeKey(flow);
      const right = isLinkToken(flow) && (await codes.check(key, code));
      const accountId = right ? await store.getDel(`${key}:who`) : null;
      const account = accountId ? await accounts.findById(accountId) : undefined;
      if (!account) throw new AppError('invalid_code', { fields: ['code'], status: 400 });
      return newResetToken(account, 'sms');
    },
    /** Spends the link atomically, sets the password, ends every session. On a never-verified
     *  account this is the first proof of the address: everything set before goes (fresh-start.ts). */
    async reset(token: string, next: string, info: RequestInfo): Promise<{ appPasswordsRevoked: number }> {
      const a = await resetAccount(token);
      if (!a) throw new AppError('link_invalid');
      assertPasswordAllowed(next, a);
      const hash = await deps.password.hash(next);
      const row = await tokens.consume(hashOf(token), RESET);
      if (!row || row.accountId !== a.id) throw new AppError('link_invalid');
      const wiped = a.emailVerified ? 0 : (await deps.freshStart.wipe(a, info)).appPasswordsRevoked;
      await accounts.setPasswordHash(a.id, hash);
      deps.accountChanges.announce(a.id);
      if (row.data.via !== 'sms') await deps.lockout.unlock(a.id, 'reset', info);
      await tokens.voidAll(a.id, RESET);
      await deps.sessions.endAll(a.id, undefined);
      await deps.activity.record({ accountId: a.id, type: 'password_reset', ip: info.ip, device: info.device });
      const revoked = await deps.appPasswords.revokeAll(a.id, info);
      const notice = {
        change: 'password_changed',
        when: new Date(),
        link: `${config.issuer}/account/security`,
        greet: greetingName(a, a.email),
      };
      await deps.mailer.send(emails.securityChange(localeOf(a), a.zoneinfo, a.email, notice));
      return { appPasswordsRevoked: wiped + revoked.length };
    },
    /** The logins an SMS number or a recovery email opens, sent there. */
    async forgotLogin(request: ForgotLoginRequest, ip: string): Promise<void> {
      if (request.method === 'sms') {
        const { e164 } = request;
        await gate('forgot-login', ip, e164);
        const matches = await accounts.findByRecoveryPhoneHash(hmac(config.hashKey, `recovery-phone:${e164}`));
        deferred.later('forgot_login', async () => {
          const [first] = matches;
          if (!first || !(await toNumber(e164))) return;
          const t = translator(localeOf(first));
          const text = t('sms.login', { logins: matches.map((a) => a.email).join(', ') });
          await deps.sms.send({ to: e164, kind: 'forgot_login', text });
        });
        return;
      }
      const wanted = request.recoveryEmail;
      await gate('forgot-login', ip, wanted);
      const matches = await accounts.findByRecoveryEmail(wanted);
      deferred.later('forgot_login', async () => {
        for (const a of matches)
          if (a.recoveryEmail && (await toRecipient(a.recoveryEmail)))
            await deps.mailer.send(emails.forgotLogin(localeOf(a), a.recoveryEmail, a.email));
      });
    },
    /** "Unlock my account": a fresh unlock link to the address, for each locked account it opens. */
    async requestUnlock(address: string, ip: string): Promise<void> {
      await gate('unlock-request', ip, address);
      const targets = await accountsFor(address);
      deferred.later('unlock_link', async () => {
        for (const { account, to } of targets)
          if (account.lockedAt && (await toRecipient(to))) await deps.lockout.sendLink(account.id, to);
      });
    },
  };
}
export type Recovery = ReturnType<typeof createRecovery>;
