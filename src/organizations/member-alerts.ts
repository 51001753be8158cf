// A security alert to one member: an email in their language about what their settings lack (no
// second factor, no recovery contact…), at most ALERTS_PER_HOUR per member whoever sends it — an
// admin's button must not become a way to flood someone's mailbox.
import type { Account } from '../db/repositories/accounts.ts';
import type { Organization } from '../db/repositories/organizations.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { MESSAGE_WINDOW_SECONDS } from '../http/rate-limit.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { Config } from '../config.ts';
import { alertIssues, orgAlertEmail } from './console-emails.ts';
import { recordBoth, type ConsoleActor } from './console-activity.ts';

export const ALERTS_PER_HOUR = 3;

export function createMemberAlerts(deps: {
  config: Config;
  limiter: RateLimiter;
  mailer: Mailer;
  repos: { activity: ActivityRepo };
}) {
  return {
    /** Sends the alert; false when this member had their ALERTS_PER_HOUR already. */
    async send(by: ConsoleActor, organization: Organization, member: Account, has2fa: boolean): Promise<boolean> {
      if (!(await deps.limiter.hit('org-alert', member.id, ALERTS_PER_HOUR, MESSAGE_WINDOW_SECONDS))) return false;
      const issues = alertIssues(member, has2fa);
      await deps.mailer.send(orgAlertEmail(deps.config.issuer, member, { organization: organization.name, issues }));
      await recordBoth(deps.repos.activity, by, 'org_security_alert', { organization, member: member });
      return true;
    },
  };
}
