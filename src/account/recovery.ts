// Forgotten password and forgotten login, without HTTP. Neither reveals whether an account
// exists: the answer is always the same and only the owner's mailbox or phone learns anything.
// Both are rate-limited per IP and per recipient. A password reset ends every session.
import type { Config } from '../config.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor, PasswordProblem } from '../factors/password.ts';
import { checkPasswordPolicy } from '../factors/password.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { SmsTransport } from '../notify/sms.ts';
import { emails } from '../notify/emails.ts';
import { translator, isLocale, type Locale } from '../http/i18n.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Sessions } from './sessions.ts';
import { hmac, randomToken } from '../lib/crypto.ts';

const RESET = 'reset_password';
const RESET_TTL_MS = 3600 * 1000;
const HOUR = 3600;

export function createRecovery(deps: {
  config: Config; accounts: AccountsRepo; tokens: OneTimeTokensRepo; activity: ActivityRepo; password: PasswordFactor;
  mailer: Mailer; sms: SmsTransport; limiter: RateLimiter; sessions: Sessions;
}) {
  const { config, accounts, tokens, limiter } = deps;
  const hashOf = (t: string) => hmac(config.hashKey, `${RESET}:${t}`);
  const localeOf = (a: Account): Locale => (isLocale(a.locale) ? a.locale : 'en');
  const perIp = (bucket: string, ip: string) => limiter.hit(bucket, ip, config.rateLimits.loginPerIp, HOUR);
  const toRecipient = (to: string) => limiter.hit('email', to, config.rateLimits.emailPerRecipient, HOUR);

  async function sendReset(a: Account, to: string) {
    if (!(await toRecipient(to))) return;
    const token = randomToken(32);
    await tokens.create({ tokenHash: hashOf(token), purpose: RESET, accountId: a.id, expiresAt: new Date(Date.now() + RESET_TTL_MS) });
    await deps.mailer.send(emails.passwordReset(localeOf(a), to, `${config.issuer}/reset-password?token=${token}`));
  }

  async function resetAccount(token: string): Promise<Account | undefined> {
    if (!/^[\w-]{20,100}$/.test(token)) return undefined;
    const row = await tokens.peek(hashOf(token), RESET);
    return row ? accounts.findById(row.accountId) : undefined;
  }

  return {
    /** The account a reset link belongs to, if the link is still good (not spent by looking). */
    resetAccount,
    /** The address may be a login email or a recovery email; the link goes to that address. */
    async requestReset(address: string, ip: string): Promise<'done' | 'rate_limited'> {
      if (!(await perIp('recovery-ip', ip))) return 'rate_limited';
      const byLogin = await accounts.findByEmail(address);
      if (byLogin) await sendReset(byLogin, byLogin.email);
      for (const a of await accounts.findByRecoveryEmail(address)) await sendReset(a, a.recoveryEmail!);
      return 'done';
    },
    /** Spends the link atomically, sets the password, ends every session. */
    async reset(token: string, next: string, info: RequestInfo): Promise<'ok' | 'link_invalid' | PasswordProblem> {
      const a = await resetAccount(token);
      if (!a) return 'link_invalid';
      const problem = checkPasswordPolicy(next, [a.email.split('@')[0]!, a.givenName ?? '', a.familyName ?? '']);
      if (problem) return problem;
      const hash = await deps.password.hash(next);
      const row = await tokens.consume(hashOf(token), RESET);
      if (!row || row.accountId !== a.id) return 'link_invalid';
      await accounts.setPasswordHash(a.id, hash);
      await tokens.voidAll(a.id, RESET);
      await deps.sessions.endAll(a.id, undefined);
      await deps.activity.record({ accountId: a.id, type: 'password_reset', ip: info.ip, device: info.device });
      await deps.mailer.send(emails.securityChange(localeOf(a), a.zoneinfo, a.email, { change: 'password_changed', when: new Date(), link: `${config.issuer}/account/security` }));
      return 'ok';
    },
    /** The login goes by SMS to the recovery mobile, and by email to the recovery email when the
     *  user gave it and it matches. */
    async forgotLogin(e164: string, recoveryEmail: string | undefined, ip: string): Promise<'done' | 'rate_limited'> {
      if (!(await perIp('recovery-ip', ip))) return 'rate_limited';
      const numberKey = hmac(config.hashKey, `sms-number:${e164}`);
      const matches = await accounts.findByRecoveryPhoneHash(hmac(config.hashKey, `recovery-phone:${e164}`));
      if (matches.length && (await limiter.hit('sms-number', numberKey, config.rateLimits.smsPerNumber, HOUR))) {
        const t = translator(localeOf(matches[0]!));
        await deps.sms.send({ to: e164, kind: 'forgot_login', text: t('sms.login', { logins: matches.map((a) => a.email).join(', ') }) });
      }
      for (const a of matches) {
        if (recoveryEmail && a.recoveryEmail && a.recoveryEmail.toLowerCase() === recoveryEmail.trim().toLowerCase() && (await toRecipient(a.recoveryEmail))) {
          await deps.mailer.send(emails.forgotLogin(localeOf(a), a.recoveryEmail, a.email));
        }
      }
      return 'done';
    },
  };
}
export type Recovery = ReturnType<typeof createRecovery>;
