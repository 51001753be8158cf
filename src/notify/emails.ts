// Email templates: every string from the locale catalogs; plain-text and HTML parts.
import { translator, formatDate, type Locale } from '../http/i18n.ts';
import { renderString } from '../http/render.ts';
import type { EmailMessage } from './mailer.ts';

/** One email: `kind` names it for logs and tests, `key` its texts in the catalogs (email.<key>.*). */
function compose(
  what: { kind: string; key: string },
  envelope: { locale: Locale; to: string },
  params: Record<string, string>,
  link?: string,
): EmailMessage {
  const { kind, key } = what;
  const { locale, to } = envelope;
  const t = translator(locale);
  const subject = t(`email.${key}.subject`, params);
  const paragraphs = [t(`email.${key}.body`, params)];
  const footer = t(`email.${key}.footer`, params);
  const text = [
    t('email.greeting', params),
    '',
    ...paragraphs,
    ...(link ? ['', link] : []),
    '',
    footer,
    '',
    t('email.signature'),
  ].join('\n');
  const html = renderString('emails/layout', {
    locale,
    subject,
    greeting: t('email.greeting', params),
    paragraphs,
    link,
    linkLabel: link ? t(`email.${key}.action`) : undefined,
    footer,
    signature: t('email.signature'),
  });
  return { kind, to, subject, text, html };
}

export const emails = {
  /** To an address nobody has confirmed yet, so with nothing anyone typed (a name "Click here:
   *  https://evil.example" would turn Sesame into a phishing relay): Sesame's own words and link. */
  verifyEmail: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'verify_email', key: 'verify' }, { locale, to }, {}, link),
  /** Sent instead of a verification link when someone signs up with an address that has an
   *  account: the form answers the same either way, only the mailbox owner learns the truth. */
  signupExisting: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'signup_existing', key: 'signupExisting' }, { locale, to }, { name: to }, link),
  /** Every change to the second factors: what changed, when (in the user's time zone), and where to
   *  review it. */
  securityChange: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { change: string; method?: string; name?: string; when: Date; link: string },
  ) => {
    const t = translator(locale);
    const change = t(`securityChanges.${c.change}`, {
      method: c.method ? t(`methods.${c.method}`) : '',
      name: c.name ?? '',
    });
    return compose(
      { kind: `security_${c.change}`, key: 'securityChange' },
      { locale, to },
      { change, when: formatDate(c.when, locale, timeZone) },
      c.link,
    );
  },
  /** To the new, unconfirmed address: like verifyEmail, nothing the account's owner typed. */
  confirmEmailChange: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'confirm_email_change', key: 'confirmEmailChange' }, { locale, to }, { email: to }, link),
  accountDeleted: (locale: Locale, to: string) =>
    compose({ kind: 'account_deleted', key: 'accountDeleted' }, { locale, to }, { email: to }),
  passwordReset: (locale: Locale, to: string, link: string) =>
    compose({ kind: 'password_reset', key: 'passwordReset' }, { locale, to }, { email: to }, link),
  forgotLogin: (locale: Locale, to: string, login: string) =>
    compose({ kind: 'forgot_login', key: 'forgotLogin' }, { locale, to }, { login }),
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
    },
  ) => {
    const t = translator(locale);
    const key = { new_device: 'alertNewDevice', sign_in: 'alertSignIn', failed_password: 'alertFailedPassword' }[
      c.kind
    ];
    return compose(
      { kind: `alert_${c.kind}`, key: key },
      { locale, to },
      {
        when: formatDate(c.when, locale, timeZone),
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
    c: { attempts: number; when: Date; ip: string; link: string },
  ) =>
    compose(
      { kind: 'account_locked', key: 'accountLocked' },
      { locale, to },
      { attempts: String(c.attempts), when: formatDate(c.when, locale, timeZone), ip: c.ip },
      c.link,
    ),
  /** The user pressed "this wasn't me" on a push approval request: someone has their password. */
  pushDenied: (
    locale: Locale,
    timeZone: string,
    to: string,
    c: { app: string; browser: string; ip: string; when: Date; link: string },
  ) =>
    compose(
      { kind: 'push_denied', key: 'pushDenied' },
      { locale, to },
      { app: c.app, browser: c.browser, ip: c.ip, when: formatDate(c.when, locale, timeZone) },
      c.link,
    ),
};
