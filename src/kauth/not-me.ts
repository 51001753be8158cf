// A push request denied with "this wasn't me": someone has the password. The owner is told at once,
// in their language and time zone, with the way to the Security page.
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import type { PublicChallenge } from './push-transport.ts';

export function createNotMeAlert(deps: { accounts: AccountsRepo; mailer: Mailer; config: { issuer: string } }) {
  return async function notMe(accountId: string, challenge: PublicChallenge): Promise<void> {
    const account = await deps.accounts.findById(accountId);
    if (!account) return;
    const { app, browser, ip } = challenge;
    const mail = {
      app,
      browser,
      ip,
      when: new Date(challenge.created_at),
      link: `${deps.config.issuer}/account/security`,
      greet: greetingName(account, account.email),
    };
    await deps.mailer.send(emails.pushDenied(localeOf(account), account.zoneinfo, account.email, mail));
  };
}
