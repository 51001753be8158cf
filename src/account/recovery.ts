// Forgotten password and forgotten login, without HTTP. Neither reveals whether an account
// exists: the answer is always the same and only the owner's mailbox or phone learns anything.
// Both are rate-limited per IP and per recipient. A password reset ends every session.
import type { Config } from '../config.ts';
import { normalizeEmail, type AccountsRepo, type Account } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { assertPasswordAllowed } from '../factors/password.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { SmsTransport } from '../notify/sms.ts';
import { emails } from '../notify/emails.ts';
import { translator, localeOf } from '../http/i18n.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import { AppError } from '../errors.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Sessions } from './sessions.ts';
import type { FreshStart } from './fresh-start.ts';
import { hmac, randomToken, isLinkToken } from '../lib/crypto.ts';

const RESET = 'reset_password';
const RESET_TTL_MS = 3600 * 1000;
const HOUR = MESSAGE_WINDOW_SECONDS;

export function createRecovery(deps: {
  config: Config;
  accounts: AccountsRepo;
  tokens: OneTimeTokensRepo;
  activity: ActivityRepo;
  password: PasswordFactor;
  mailer: Mailer;
  sms: SmsTransport;
  limiter: RateLimiter;
  sessions: Sessions;
  freshStart: FreshStart;
}) {
  const { config, accounts, tokens, limiter } = deps;
  const hashOf = (t: string) => hmac(config.hashKey, `${RESET}:${t}`);
  const perIp = (bucket: string, ip: string) => limiter.hit(bucket, ip, config.rateLimits.loginPerIp, HOUR);
  const toRecipient = (to: string) => limiter.hit('email', to, config.rateLimits.emailPerRecipient, HOUR);

  async function sendReset(a: Account, to: string) {
    if (!(await toRecipient(to))) return;
    const token = randomToken(32);
    await tokens.create({
      tokenHash: hashOf(token),
      purpose: RESET,
      accountId: a.id,
      // Where the link went: on a never-verified account only its login address proves anything.
      data: { to },
      expiresAt: new Date(Date.now() + RESET_TTL_MS),
    });
    await deps.mailer.send(emails.passwordReset(localeOf(a), to, `${config.issuer}/reset-password?token=${token}`));
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
      if (!(await perIp('recovery-ip', ip))) throw new AppError('rate_limited');
      const byLogin = await accounts.findByEmail(address);
      if (byLogin) await sendReset(byLogin, byLogin.email);
      for (const a of await accounts.findByRecoveryEmail(address))
        if (a.recoveryEmail) await sendReset(a, a.recoveryEmail);
    },
    /** Spends the link atomically, sets the password, ends every session. On a never-verified
     *  account this is the first proof of the address: everything set before goes (fresh-start.ts). */
    async reset(token: string, next: string, info: RequestInfo): Promise<void> {
      const a = await resetAccount(token);
      if (!a) throw new AppError('link_invalid');
      assertPasswordAllowed(next, a);
      const hash = await deps.password.hash(next);
      const row = await tokens.consume(hashOf(token), RESET);
      if (!row || row.accountId !== a.id) throw new AppError('link_invalid');
      if (!a.emailVerified) await deps.freshStart.wipe(a, info);
      await accounts.setPasswordHash(a.id, hash);
      await tokens.voidAll(a.id, RESET);
      await deps.sessions.endAll(a.id, undefined);
      await deps.activity.record({ accountId: a.id, type: 'password_reset', ip: info.ip, device: info.device });
      const notice = { change: 'password_changed', when: new Date(), link: `${config.issuer}/account/security` };
      await deps.mailer.send(emails.securityChange(localeOf(a), a.zoneinfo, a.email, notice));
    },
    /** The login goes by SMS to the recovery mobile, and by email to the recovery email when the
     *  user gave it and it matches. */
    async forgotLogin(e164: string, recoveryEmail: string | undefined, ip: string): Promise<void> {
      if (!(await perIp('recovery-ip', ip))) throw new AppError('rate_limited');
      const numberKey = hmac(config.hashKey, `sms-number:${e164}`);
      const matches = await accounts.findByRecoveryPhoneHash(hmac(config.hashKey, `recovery-phone:${e164}`));
      if (matches.length && (await limiter.hit('sms-number', numberKey, config.rateLimits.smsPerNumber, HOUR))) {
        const t = translator(localeOf(matches[0]));
        await deps.sms.send({
          to: e164,
          kind: 'forgot_login',
          text: t('sms.login', { logins: matches.map((a) => a.email).join(', ') }),
        });
      }
      const wanted = recoveryEmail?.trim().toLowerCase();
      for (const a of matches) {
        const matching = wanted && a.recoveryEmail?.toLowerCase() === wanted;
        if (matching && a.recoveryEmail && (await toRecipient(a.recoveryEmail))) {
          await deps.mailer.send(emails.forgotLogin(localeOf(a), a.recoveryEmail, a.email));
        }
      }
    },
  };
}
export type Recovery = ReturnType<typeof createRecovery>;
