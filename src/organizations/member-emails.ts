// The emails a member gets when an administrator changes their place in an organization: each in
// the member's own language, naming the organization, the change and who made it.
import { compose, greetingName } from '../notify/emails.ts';
import { localeOf, translator } from '../http/i18n.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { Role } from '../db/schema.ts';

type Member = Pick<Account, 'email' | 'emailVerified' | 'givenName' | 'name' | 'locale'>;

export const memberEmails = {
  /** Every role change, to the member (email.orgRoleChanged.*). */
  roleChanged(member: Member, p: { organization: string; from: Role; to: Role; by: string; link: string }) {
    const locale = localeOf(member);
    const t = translator(locale);
    return compose(
      { kind: 'org_role_changed', key: 'orgRoleChanged' },
      { locale, to: member.email, greet: greetingName(member, member.email) },
      {
        organization: p.organization,
        from: t(`org.roles.${p.from}`),
        to: t(`org.roles.${p.to}`),
        by: p.by,
      },
      p.link,
    );
  },
  /** Removed by an administrator (email.orgMemberRemoved.*). */
  removed(member: Member, p: { organization: string; by: string; link: string }) {
    const locale = localeOf(member);
    return compose(
      { kind: 'org_member_removed', key: 'orgMemberRemoved' },
      { locale, to: member.email, greet: greetingName(member, member.email) },
      { organization: p.organization, by: p.by },
      p.link,
    );
  },
};
