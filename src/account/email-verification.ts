// Email verification links: 256-bit random tokens, stored only as an HMAC, single-use, 24 h.
import type { Config } from '../config.ts';
import { hmac, randomToken, isLinkToken } from '../lib/crypto.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';

const PURPOSE = 'verify_email';
const TTL_MS = 24 * 3600 * 1000;

export function createEmailVerification(deps: {
  config: Config;
  repos: { oneTimeTokens: OneTimeTokensRepo; accounts: AccountsRepo };
  mailer: Mailer;
  limiter: RateLimiter;
}) {
  const { config, mailer, limiter } = deps;
  const { oneTimeTokens: tokens, accounts } = deps.repos;
  const hashOf = (token: string) => hmac(config.hashKey, `${PURPOSE}:${token}`);

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
      await mailer.send(emails.verifyEmail(localeOf(account), account.email, account.name, link));
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
    /** Consumes the token atomically; true when the account's current email is now verified. */
    async verify(token: string): Promise<boolean> {
      if (!isLinkToken(token)) return false;
      const row = await tokens.consume(hashOf(token), PURPOSE);
      if (!row) return false;
      return accounts.markEmailVerified(row.accountId, String(row.data.email));
    },
  };
}
export type EmailVerification = ReturnType<typeof createEmailVerification>;
