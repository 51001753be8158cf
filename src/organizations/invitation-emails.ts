// The invitation email, in the recipient's language: the role and the single-use link (valid 7
// days) — and nothing anyone typed. The address has confirmed nothing yet, so an organization's
// name or an inviter's display name ("Security team: reset your password at https://evil.example")
// would turn Sesame into a phishing relay; the invitation page behind the link shows both.
import { translator, type Locale } from '../http/i18n.ts';
import { compose } from '../notify/emails.ts';
import type { Role } from './policy.ts';

export function invitationEmail(locale: Locale, to: string, c: { role: Role; link: string; greet?: string }) {
  const t = translator(locale);
  return compose(
    { kind: 'org_invitation', key: 'orgInvitation' },
    { locale, to, greet: c.greet },
    { role: t(`org.roles.${c.role}`) },
    c.link,
  );
}
