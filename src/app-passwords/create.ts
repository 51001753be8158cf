// Making an app password, as the Security page and POST /1/app-passwords both do: only with 2FA on
// (without it the account password itself works where an app password would), then emailed to the
// account's address so that one made behind the owner's back does not go unnoticed.
import type { Account } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { localeOf } from '../http/i18n.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import type { AppPasswords } from './service.ts';

/** Where app passwords are managed. */
export const APP_PASSWORDS_PAGE = '/account/security/app-passwords';

export interface CreateAppPasswordDeps {
  appPasswords: Pick<AppPasswords, 'create'>;
  security: { overview(accountId: string): Promise<{ enabled: boolean }> };
  /** The deferred mailer: sent after the answer. */
  later: { mailer: Mailer };
  config: { issuer: string };
}

/** Whether the account may make app passwords: an enrolled second factor. */
export async function appPasswordsOffered(deps: Pick<CreateAppPasswordDeps, 'security'>, accountId: string) {
  return (await deps.security.overview(accountId)).enabled;
}

export async function createAppPassword(
  deps: CreateAppPasswordDeps,
  account: Account,
  name: string,
  info: RequestInfo,
): ReturnType<AppPasswords['create']> {
  if (!(await appPasswordsOffered(deps, account.id))) throw new AppError('two_factor_required');
  const made = await deps.appPasswords.create(account.id, name, info);
  const notice = {
    name,
    when: made.row.createdAt,
    ip: info.ip,
    link: `${deps.config.issuer}${APP_PASSWORDS_PAGE}`,
    greet: greetingName(account, account.email),
  };
  await deps.later.mailer.send(emails.appPasswordCreated(localeOf(account), account.zoneinfo, account.email, notice));
  return made;
}
