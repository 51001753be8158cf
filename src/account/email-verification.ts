// Email verification links: 256-bit random tokens, stored only as an HMAC, single-use, 24 h.
// Opening the link is not enough: the password chosen at sign-up is asked too. Anyone may sign up
// with someone else's address; if the address's owner could confirm it by pressing a button, the
// account of whoever signed up — and knows its password — would become theirs, verified
// (pre-account hijacking). The owner who did not sign up takes the address over by a password reset
// instead (fresh-start.ts).
import type { Config } from '../config.ts';
import { hmac, randomToken, isLinkToken } from '../lib/crypto.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { CheckPassword } from '../login/check-password.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';

const PURPOSE = 'verify_email';
const TTL_MS = 24 * 3600 * 1000;

export function createEmailVerification(deps: {
  config: Config;
  repos: { oneTimeTokens: OneTimeTokensRepo; accounts: AccountsRepo };
  mailer: Mailer;
  limiter: RateLimiter;
  checkPassword: CheckPassword;
}) {
  const { config, mailer, limiter } = deps;
  const { oneTimeTokens: tokens, accounts } = deps.repos;
  const hashOf = (token: string) => hmac(config.hashKey, `${PURPOSE}:${token}`);

  /** The account an open link is for, if it is still good and still the account's address. */
  async function accountOf(token: string): Promise<Account | undefined> {
    if (!isLinkToken(token)) return undefined;
    const row = await tokens.peek(hashOf(token), PURPOSE);
    const account = row && (await accounts.findById(row.accountId));
    return account && account.email === String(row.data.email) ? account : undefined;
  }

  return {
    /** Sends a link unless this address got too many emails lately (limit per recipient). */
    async send(account: Account, returnTo?: string): Promise<void> {
      if (!(await limiter.hit('email', account.email, config.rateLimits.emailPerRecipient, MESSAGE_WINDOW_SECONDS)))
        return;
      const token = randomToken(32);
      await tokens.create({
        tokenHash: hashOf(token),
        purpose: PURPOSE,
        accountId: account.id,
        data: { email: account.email },
        expiresAt: new Date(Date.now() + TTL_MS),
      });
      const link = `${config.issuer}/verify-email?token=${token}${returnTo ? `&return=${encodeURIComponent(returnTo)}` : ''}`;
      await mailer.send(emails.verifyEmail(localeOf(account), account.email, link));
    },
    async sendExistingNotice(account: Account): Promise<void> {
      if (!(await limiter.hit('email', account.email, config.rateLimits.emailPerRecipient, MESSAGE_WINDOW_SECONDS)))
        return;
      await mailer.send(
        emails.signupExisting(
          localeOf(account),
          account.email,
          `${config.issuer}/account`,
          greetingName(account, account.email),
        ),
      );
    },
    /** Whether a link is still good (the page that asks for the password). */
    async isOpen(token: string): Promise<boolean> {
      return (await accountOf(token)) !== undefined;
    },
    /** With the account's password (the one check: rate limits, lockout), spends the link
     *  atomically and marks the address verified. A wrong password leaves the link usable. */
    async verify(token: string, password: string, info: RequestInfo): Promise<void> {
      const account = await accountOf(token);
      if (!account) throw new AppError('link_invalid');
      const check = { email: account.email, account, password, refusal: 'wrong_password' } as const;
      await deps.checkPassword(check, info);
      const row = await tokens.consume(hashOf(token), PURPOSE);
      if (!row || !(await accounts.markEmailVerified(row.accountId, String(row.data.email))))
        throw new AppError('link_invalid');
    },
  };
}
export type EmailVerification = ReturnType<typeof createEmailVerification>;
