// Email templates: every string from the locale catalogs; plain-text and HTML parts.
import { translator, formatDate, type Locale, type Translate } from '../http/i18n.ts';
import { renderString } from '../http/render.ts';
import { factorName } from '../http/factor-name.ts';
import type { EmailMessage } from './mailer.ts';

/** The name an email may greet its reader by: the account's given name, only in mail to the login
 *  address the account has confirmed. A mailbox that never proved it belongs to the account gets no
 *  text someone typed at sign-up ("Hello,"). */
export function greetingName(
  account: { email: string; emailVerified: boolean; givenName?: string | null; name: string },
  to: string,
): string | undefined {
  if (!account.emailVerified || to.toLowerCase() !== account.email.toLowerCase()) return undefined;
  return account.givenName?.trim() || account.name.trim() || undefined;
}

/** A moment as an email shows it: the reader's language and time zone, the zone named (an email
 *  is read away from the account's settings, perhaps while travelling). */
export const when = (date: Date, locale: Locale, timeZone: string) =>
  formatDate(date, locale, timeZone, { zoneLabel: true });

const greeting = (t: Translate, name: string | undefined) =>
  name ? t('email.greetingName', { name }) : t('email.greeting');

/** One email: `kind` names it for logs and tests, `key` its texts in the catalogs (email.<key>.*).
 *  Features with emails of their own (organizations/emails.ts) compose them with it. */
export function compose(
  what: { kind: string; key: string },
  envelope: { locale: Locale; to: string; greet?: string },
  params: Record<string, string>,
  link?: string,
): EmailMessage {
  const { kind, key } = what;
  const { locale, to } = envelope;
  const t = translator(locale);
  const subject = t(`email.${key}.subject`, params);
  const paragraphs = [t(`email.${key}.body`, params)];
  const footer = t(`email.${key}.footer`, params);
  const hello = greeting(t, envelope.greet);
  const text = [hello, '', ...paragraphs, ...(link ? ['', link] : []), '', footer, '', t('email.signature')].join('\n');
  const html = renderString('emails/layout', {
    locale,
    subject,
    greeting: hello,
    paragraphs,
    link,
    linkLabel: link ? t(`email.${key}.action`) : undefined,
    footer,
    signature: t('email.signature'),
  });
  return { kind, to, subject, text, html };
}

const MARK_METHOD = '\u0001';
const MARK_NAME = '\u0002';

/** A change notice's sentence: the method's label in lower case inside a sentence (not in German,
 *  whose nouns keep their capital, nor for an acronym such as SMS), and its name in quotes only when
 *  it says more than the label ("Authenticator app “Authenticator app”" says it twice). */
function sentence(locale: Locale, template: string, method: string, name: string): string {
  const inside = template.indexOf(MARK_METHOD) > 0;
  const label =
    inside && locale !== 'de' && /^\p{Lu}\p{Ll}/u.test(method)
      ? method.charAt(0).toLowerCase() + method.slice(1)
      : method;
  const withName =
    name && name !== method ? template : template.replace(new RegExp(`\\s*[«“„"]\\s*${MARK_NAME}\\s*[»”“"]`, 'u'), '');
  return withName.replace(MARK_METHOD, label).replace(MARK_NAME, name);
}

export const emails = {
  /** To an address nobody has confirmed yet, so with nothing anyone typed (a name "Click here:
   *  https://evil.example" would turn Sesame into a phishing relay): Sesame's own words and link. */
  verifyEmail: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'verify_email', key: 'verify' }, { locale, to }, {}, link),
  /** Sent instead of a verification link when someone signs up with an address that has an
   *  account: the form answers the same either way, only the mailbox owner learns the truth. */
  signupExisting: (locale: Locale, to: string, link: string, greet?: string) =>
    compose({ kind: 'signup_existing', key: 'signupExisting' }, { locale, to, greet }, { name: to }, link),
  /** Every change to the second factors: what changed, when (in the user's time zone), and where to
   *  review it. */
  securityChange: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { change: string; method?: string; name?: string; when: Date; link: string; greet?: string },
  ) => {
    const t = translator(locale);
    const method = c.method ? t(`methods.${c.method}`) : '';
    const name = c.method && c.name ? factorName(t, c.method, c.name) : (c.name ?? '');
    const change = sentence(
      locale,
      t(`securityChanges.${c.change}`, { method: MARK_METHOD, name: MARK_NAME, when: when(c.when, locale, timeZone) }),
      method,
      name,
    );
    return compose(
      { kind: `security_${c.change}`, key: 'securityChange' },
      { locale, to, greet: c.greet },
      { change },
      c.link,
    );
  },
  /** To the new, unconfirmed address: like verifyEmail, nothing the account's owner typed. */
  confirmEmailChange: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'confirm_email_change', key: 'confirmEmailChange' }, { locale, to }, { email: to }, link),
  /** A new app password (app-passwords/create.ts): its name, when and from where; never its value. */
  appPasswordCreated: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { name: string; when: Date; ip: string; link: string; greet?: string },
  ) =>
    compose(
      { kind: 'app_password_created', key: 'appPasswordCreated' },
      { locale, to, greet: c.greet },
      { name: c.name, when: when(c.when, locale, timeZone), ip: c.ip },
      c.link,
    ),
  accountDeleted: (locale: Locale, to: string, greet?: string) =>
    compose({ kind: 'account_deleted', key: 'accountDeleted' }, { locale, to, greet }, { email: to }),
  passwordReset: (locale: Locale, to: string, link: string, greet?: string) =>
    compose({ kind: 'password_reset', key: 'passwordReset' }, { locale, to, greet }, { email: to }, link),
  forgotLogin: (locale: Locale, to: string, login: string, greet?: string) =>
    compose({ kind: 'forgot_login', key: 'forgotLogin' }, { locale, to, greet }, { login }),
  /** Sign-in alerts: a new device or network (always), every sign-in or failed password (opt-in). */
  signInAlert: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: {
      kind: 'new_device' | 'sign_in' | 'failed_password';
      when: Date;
      app: string;
      device: string;
      ip: string;
      place: string;
      link: string;
      greet?: string;
    },
  ) => {
    const t = translator(locale);
    const key = { new_device: 'alertNewDevice', sign_in: 'alertSignIn', failed_password: 'alertFailedPassword' }[
      c.kind
    ];
    return compose(
      { kind: `alert_${c.kind}`, key: key },
      { locale, to, greet: c.greet },
      {
        when: when(c.when, locale, timeZone),
        app: c.app,
        device: c.device || t('sessions.unknownDevice'),
        ip: c.ip,
        place: t(`places.${c.place}`),
      },
      c.link,
    );
  },
  /** Locked after too many failed attempts: the self-service unlock link (single-use, 24 hours). */
  accountLocked: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { attempts: number; when: Date; ip: string; link: string; greet?: string },
  ) =>
    compose(
      { kind: 'account_locked', key: 'accountLocked' },
      { locale, to, greet: c.greet },
      { attempts: String(c.attempts), when: when(c.when, locale, timeZone), ip: c.ip },
      c.link,
    ),
  /** A new unlock link, asked for on the "unlock my account" page (single-use, 24 hours). */
  unlockLink: (locale: Locale, to: string, link: string, greet?: string) =>
    compose({ kind: 'unlock_link', key: 'unlockLink' }, { locale, to, greet }, { email: to }, link),
  /** The user pressed "this wasn't me" on a push approval request: someone has their password. */
  pushDenied: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { app: string; browser: string; ip: string; when: Date; link: string; greet?: string },
  ) =>
    compose(
      { kind: 'push_denied', key: 'pushDenied' },
      { locale, to, greet: c.greet },
      { app: c.app, browser: c.browser, ip: c.ip, when: when(c.when, locale, timeZone) },
      c.link,
    ),
};
