// The invitation email, in the recipient's language: who invites, to which organization, with which
// role, and the single-use link (valid 7 days).
import { translator, type Locale } from '../http/i18n.ts';
import { compose } from '../notify/emails.ts';
import type { Role } from './policy.ts';

export function invitationEmail(
  locale: Locale,
  to: string,
  c: { organization: string; role: Role; inviter: string; link: string; greet?: string },
) {
  const t = translator(locale);
  return compose(
    { kind: 'org_invitation', key: 'orgInvitation' },
    { locale, to, greet: c.greet },
    { organization: c.organization, role: t(`org.roles.${c.role}`), inviter: c.inviter },
    c.link,
  );
}
