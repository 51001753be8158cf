// The security console's emails, each in the member's own language: an administrator unlocked the
// account, a security alert about the member's settings, and "your organization now requires 2FA".
import { compose, greetingName, when } from '../notify/emails.ts';
import { localeOf, translator } from '../http/i18n.ts';
import type { Account } from '../db/repositories/accounts.ts';

type Member = Pick<
  Account,
  'email' | 'emailVerified' | 'givenName' | 'name' | 'locale' | 'zoneinfo' | 'recoveryEmail' | 'recoveryPhone'
>;

const envelope = (member: Member) => ({
  locale: localeOf(member),
  to: member.email,
  greet: greetingName(member, member.email),
});

/** What a security alert points out: the settings that leave the account weaker than it could be. */
export type AlertIssue = 'no_2fa' | 'no_recovery';

export function alertIssues(member: Pick<Member, 'recoveryEmail' | 'recoveryPhone'>, has2fa: boolean): AlertIssue[] {
  const issues: AlertIssue[] = [];
  if (!has2fa) issues.push('no_2fa');
  if (!member.recoveryEmail && !member.recoveryPhone) issues.push('no_recovery');
  return issues;
}

export function orgUnlockedEmail(issuer: string, member: Member, p: { organization: string; by: string; at: Date }) {
  const e = envelope(member);
  const params = { organization: p.organization, by: p.by, when: when(p.at, e.locale, member.zoneinfo) };
  return compose({ kind: 'org_unlocked', key: 'orgUnlocked' }, e, params, `${issuer}/account/security`);
}

export function orgAlertEmail(issuer: string, member: Member, p: { organization: string; issues: AlertIssue[] }) {
  const e = envelope(member);
  const t = translator(e.locale);
  const lines = p.issues.length ? p.issues : (['review'] as const);
  const issues = lines.map((i) => `– ${t(`email.orgAlert.issues.${i}`)}`).join('\n');
  return compose(
    { kind: 'org_alert', key: 'orgAlert' },
    e,
    { organization: p.organization, issues },
    `${issuer}/account/security`,
  );
}

export function org2faRequiredEmail(issuer: string, member: Member, p: { organization: string }) {
  return compose(
    { kind: 'org_2fa_required', key: 'org2faRequired' },
    envelope(member),
    { organization: p.organization },
    `${issuer}/account/security/required`,
  );
}
