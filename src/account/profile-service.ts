// The profile, without HTTP: name, language, time zone, recovery contacts, password, login email
// and deleting the account. Each change is logged in the activity and announced by email.
import type { AccountChanges } from '../store/account-changes.ts';
import type { Config } from '../config.ts';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import { normalizeEmail } from '../db/repositories/accounts.ts';
import type { OneTimeTokensRepo } from '../db/repositories/one-time-tokens.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { assertPasswordAllowed } from '../factors/password.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import { AppError } from '../errors.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Sessions } from './sessions.ts';
import { encrypt, hmac, randomToken, isLinkToken } from '../lib/crypto.ts';
import type { Db } from '../db/client.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { nameField } from '../http/form.ts';
import { LOCALES } from '../http/i18n.ts';
import { isTimeZone } from '../lib/time-zone.ts';
import { nameClaims } from '../oidc/account.ts';

const CHANGE_EMAIL = 'change_email';
const LINK_TTL_MS = 24 * 3600 * 1000;

/** The rules of the profile's fields, for the Profile page's form and the API alike. */
export const profileRules = {
  givenName: nameField,
  familyName: nameField,
  locale: z.enum(LOCALES),
  zoneinfo: z.string().refine(isTimeZone, { message: 'invalid_choice' }),
};

export interface ProfileFields {
  givenName: string;
  familyName: string;
  locale: string;
  zoneinfo: string;
}

export type ProfileChange = 'password_changed' | 'email_changed' | 'recovery_email_changed' | 'recovery_phone_changed';

export function createProfileService(deps: {
  config: Config;
  db: Db;
  accounts: AccountsRepo;
  tokens: OneTimeTokensRepo;
  activity: ActivityRepo;
  password: PasswordFactor;
  mailer: Mailer;
  limiter: RateLimiter;
  sessions: Sessions;
  repos: { organizations: OrganizationsRepo };
  /** Told when the password, the login or the account changes (what nodes remember of it goes). */
  accountChanges: Pick<AccountChanges, 'announce'>;
}) {
  const { config, accounts, activity, mailer } = deps;
  const log = (a: Account, type: string, info: RequestInfo, details: Record<string, unknown> = {}) =>
    activity.record({ accountId: a.id, type, ip: info.ip, device: info.device, details });
  const notice = (a: Account, change: ProfileChange, to = a.email) =>
    mailer.send(
      emails.securityChange(localeOf(a), a.zoneinfo, to, {
        change,
        when: new Date(),
        link: `${config.issuer}/account/profile`,
        greet: greetingName(a, to),
      }),
    );
  const tokenHash = (t: string) => hmac(config.hashKey, `${CHANGE_EMAIL}:${t}`);

  async function update(a: Account, p: ProfileFields, info: RequestInfo) {
    await accounts.update(a.id, {
      givenName: p.givenName,
      familyName: p.familyName,
      name: `${p.givenName} ${p.familyName}`,
      locale: p.locale,
      zoneinfo: p.zoneinfo,
    });
    await log(a, 'profile_changed', info);
  }

  return {
    /** The Profile page's form: every field, as sent. */
    update,
    /** Some fields (the API's PATCH /profile), the others kept; the account as it is afterwards.
     *  Asking for nothing new writes nothing and logs nothing. */
    async change(a: Account, p: Partial<ProfileFields>, info: RequestInfo): Promise<Account> {
      const names = nameClaims(a);
      const next: ProfileFields = {
        givenName: p.givenName ?? names.given_name,
        familyName: p.familyName ?? names.family_name,
        locale: p.locale ?? a.locale,
        zoneinfo: p.zoneinfo ?? a.zoneinfo,
      };
      const same =
        next.givenName === a.givenName &&
        next.familyName === a.familyName &&
        next.locale === a.locale &&
        next.zoneinfo === a.zoneinfo;
      if (same) return a;
      await update(a, next, info);
      return (await accounts.findById(a.id)) ?? a;
    },
    /** The recovery email must differ from the login email; '' removes it. */
    async setRecoveryEmail(a: Account, email: string | null, info: RequestInfo): Promise<void> {
      if (email && normalizeEmail(email) === normalizeEmail(a.email))
        throw new AppError('recovery_same_as_login', { fields: ['recovery_email'] });
      await accounts.update(a.id, { recoveryEmail: email ? normalizeEmail(email) : null });
      await log(a, 'recovery_changed', info, { what: 'email' });
      await notice(a, 'recovery_email_changed');
    },
    async setRecoveryPhone(a: Account, e164: string | null, info: RequestInfo) {
      await accounts.update(a.id, {
        recoveryPhone: e164 ? encrypt(config.encryptionKey, e164) : null,
        recoveryPhoneHash: e164 ? hmac(config.hashKey, `recovery-phone:${e164}`) : null,
      });
      await log(a, 'recovery_changed', info, { what: 'phone' });
      await notice(a, 'recovery_phone_changed');
    },
    /** A new password (the current one was checked by the caller). Other sessions end. */
    async changePassword(
      a: Account,
      next: string,
      info: RequestInfo,
      keepSessionUid: string | undefined,
    ): Promise<void> {
      assertPasswordAllowed(next, a, 'new_password');
      await accounts.setPasswordHash(a.id, await deps.password.hash(next));
      deps.accountChanges.announce(a.id);
      await deps.sessions.endAll(a.id, keepSessionUid);
      await log(a, 'password_changed', info);
      await notice(a, 'password_changed');
    },
    /** Sends a confirmation link to the new address. The answer is the same whether or not the
     *  address is taken (the taken address's owner is told instead): no account enumeration. */
    async requestEmailChange(a: Account, newEmail: string, info: RequestInfo): Promise<void> {
      const email = normalizeEmail(newEmail);
      if (email === normalizeEmail(a.email)) throw new AppError('email_same', { fields: ['email'] });
      if (a.recoveryEmail && email === normalizeEmail(a.recoveryEmail))
        throw new AppError('email_is_recovery', { fields: ['email'] });
      if (!(await deps.limiter.hit('email', email, config.rateLimits.emailPerRecipient, MESSAGE_WINDOW_SECONDS)))
        throw new AppError('rate_limited');
      const taken = await accounts.findByEmail(email);
      if (taken) {
        await mailer.send(
          emails.signupExisting(
            localeOf(taken),
            taken.email,
            `${config.issuer}/account`,
            greetingName(taken, taken.email),
          ),
        );
        return;
      }
      await deps.tokens.voidAll(a.id, CHANGE_EMAIL);
      const token = randomToken(32);
      await deps.tokens.create({
        tokenHash: tokenHash(token),
        purpose: CHANGE_EMAIL,
        accountId: a.id,
        data: { email, from: a.email },
        expiresAt: new Date(Date.now() + LINK_TTL_MS),
      });
      await mailer.send(
        emails.confirmEmailChange(localeOf(a), email, `${config.issuer}/confirm-email-change?token=${token}`),
      );
      await log(a, 'email_change_requested', info, { to: email });
    },
    /** Spends the link; the new address takes effect and the old one is told. An address another
     *  account took meanwhile is refused before the link is spent ('taken'): the link still works
     *  should the address become free. */
    async confirmEmailChange(token: string, info: RequestInfo): Promise<'changed' | 'invalid' | 'taken'> {
      if (!isLinkToken(token)) return 'invalid';
      const hash = tokenHash(token);
      const pending = await deps.tokens.peek(hash, CHANGE_EMAIL);
      if (!pending) return 'invalid';
      const owner = await accounts.findByEmail(String(pending.data.email));
      if (owner && owner.id !== pending.accountId) return 'taken';
      const row = await deps.tokens.consume(hash, CHANGE_EMAIL);
      if (!row) return 'invalid';
      const a = await accounts.findById(row.accountId);
      if (!a || normalizeEmail(a.email) !== normalizeEmail(String(row.data.from))) return 'invalid';
      // Taken in the instant between the check and this write (the unique index decides): spent.
      if (!(await accounts.setEmail(a.id, String(row.data.email)))) return 'taken';
      deps.accountChanges.announce(a.id);
      await log(a, 'email_changed', info, { from: a.email, to: row.data.email });
      await notice(a, 'email_changed', a.email);
      return 'changed';
    },
    /** The organizations deleting the account would leave with nobody in charge (its last legal
     *  representative, while they still have other members or applications). */
    strandedBy: (a: Account) => deps.repos.organizations.strandedBy(a.id),
    /** Everything goes: sessions (with back-channel logout), grants and tokens, factors, activity,
     *  and the organizations it is alone in without applications. Applications stay with their
     *  organization (owner_id SET NULL); refused while it is the last legal representative of an
     *  organization that still has other members or applications. */
    async deleteAccount(a: Account): Promise<void> {
      if ((await deps.repos.organizations.strandedBy(a.id)).length) throw new AppError('account_is_last_legal_rep');
      // Checked again where it counts, under the organizations' locks: another legal representative
      // may be deleting their account at this very moment.
      if (!(await accounts.delete(a.id))) throw new AppError('account_is_last_legal_rep');
      deps.accountChanges.announce(a.id);
      await deps.sessions.endAll(a.id, undefined);
      await deps.db.execute(sql`DELETE FROM oidc_payloads WHERE payload->>'accountId' = ${a.id}`);
      await mailer.send(emails.accountDeleted(localeOf(a), a.email, greetingName(a, a.email)));
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
