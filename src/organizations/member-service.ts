// An administrator's changes to a member, without HTTP: a role change or a removal, decided by the
// policy under the organization's lock (repository), written to the member's activity and to the
// administrator's, and told to the member by email in their language.
import type { Config } from '../config.ts';
import type { Account, AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Organization, OrganizationsRepo, Role } from '../db/repositories/organizations.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Mailer } from '../notify/mailer.ts';
import { AppError } from '../errors.ts';
import { canChangeRole, canRemoveMember, type Actor } from './policy.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { AccessRevoker } from './revoke-access.ts';
import { memberEmails } from './member-emails.ts';

/** The actor: the signed-in account and its role in the organization (null while blocked). */
export interface OrgActor {
  account: Account;
  role: Actor;
}

/** How many organization notices one member receives in an hour at most (member-service.ts,
 *  console-routes.ts). */
export const ORG_NOTICES_PER_HOUR = 10;

export function createMemberService(deps: {
  config: Config;
  repos: { organizations: OrganizationsRepo; accounts: AccountsRepo; activity: ActivityRepo };
  accessRevoker: AccessRevoker;
  mailer: Mailer;
  limiter: RateLimiter;
}) {
  const { organizations: repo, accounts, activity } = deps.repos;
  /** Notices to one member (role changes, removals, 2FA required): the change is always made and
   *  logged; beyond this many an hour an administrator flipping it back and forth mails nobody. */
  const mayNotify = (memberId: string) => deps.limiter.hit('org-notice', memberId, ORG_NOTICES_PER_HOUR, 3600);

  /** Once in the member's log (by whom) and once in the actor's (about whom); once when the same. */
  async function logBoth(
    type: string,
    who: { org: Organization; actor: Account; member: Account },
    info: RequestInfo,
    extra: Record<string, unknown> = {},
  ) {
    const { org, actor, member } = who;
    const base = { organization: org.name, organizationId: org.id, ...extra };
    const entry = { type, ip: info.ip, device: info.device };
    await activity.record({ ...entry, accountId: member.id, details: { ...base, by: actor.email } });
    if (actor.id !== member.id)
      await activity.record({ ...entry, accountId: actor.id, details: { ...base, member: member.email } });
  }

  async function memberAccount(id: string): Promise<Account> {
    const member = await accounts.findById(id);
    if (!member) throw new AppError('not_found');
    return member;
  }

  return {
    async changeRole(actor: OrgActor, org: Organization, change: { memberId: string; to: Role }, info: RequestInfo) {
      const { memberId, to } = change;
      const done = await repo.setRole(org.id, memberId, to, (from, count) =>
        canChangeRole(actor.role, from, to, count),
      );
      if (!done.ok) {
        if (done.reason === 'not_member' || !done.from) throw new AppError('not_found');
        // Refused only for the count (the role would allow it with another legal representative).
        const lastOne = canChangeRole(actor.role, done.from, to, 2);
        throw new AppError(lastOne ? 'last_legal_rep' : 'forbidden');
      }
      if (done.from === to) return done;
      const member = await memberAccount(memberId);
      await logBoth('org_role_changed', { org, actor: actor.account, member }, info, { from: done.from, to });
      if (await mayNotify(member.id))
        await deps.mailer.send(
          memberEmails.roleChanged(member, {
            organization: org.name,
            from: done.from,
            to,
            by: actor.account.email,
            link: `${deps.config.issuer}/account/organizations/${org.id}`,
          }),
        );
      return done;
    },

    /** Another member (one leaves on their own): never the last legal representative. Their
     *  grants, tokens and sessions for the organization's applications go. */
    async remove(actor: OrgActor, org: Organization, memberId: string, info: RequestInfo) {
      if (memberId === actor.account.id) throw new AppError('forbidden');
      const member = await memberAccount(memberId);
      const gone = await repo.removeMember(
        org.id,
        memberId,
        (role, count) => canRemoveMember(actor.role, role, count),
        'personal',
      );
      if (!gone.ok) {
        if (gone.reason !== 'refused' || !gone.role) throw new AppError('not_found');
        throw new AppError(canRemoveMember(actor.role, gone.role, 2) ? 'last_legal_rep' : 'forbidden');
      }
      await deps.accessRevoker.revokeMemberAccess(memberId, org.id);
      await logBoth('org_member_removed', { org, actor: actor.account, member }, info, { from: gone.role });
      if (await mayNotify(member.id))
        await deps.mailer.send(
          memberEmails.removed(member, {
            organization: org.name,
            by: actor.account.email,
            link: `${deps.config.issuer}/account/organizations`,
          }),
        );
    },
  };
}
export type MemberService = ReturnType<typeof createMemberService>;
