// Creating, editing, deleting and leaving an organization, without HTTP: the policy decides (the
// repository re-checks under the organization's lock what counts can change), and each step is
// written to the actor's activity.
import type { Account, AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Organization, OrganizationInput, OrganizationsRepo } from '../db/repositories/organizations.ts';
import type { RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import { allow } from './context.ts';
import { canDeleteOrganization, canEditOrganization, canLeave, type Actor } from './policy.ts';
import type { AccessRevoker } from './revoke-access.ts';
import type { RateLimiter } from '../http/rate-limit.ts';

/** Organizations one account may create in an hour: enough for anyone setting up, not for
 *  someone making organizations to send invitations from. */
const CREATIONS_PER_HOUR = 10;

export function createOrgService(deps: {
  repos: { organizations: OrganizationsRepo; accounts: AccountsRepo; activity: ActivityRepo };
  accessRevoker: AccessRevoker;
  limiter: RateLimiter;
}) {
  const { organizations: repo, accounts, activity } = deps.repos;
  const log = (a: Account, type: string, org: Organization, info: RequestInfo) =>
    activity.record({
      accountId: a.id,
      type,
      ip: info.ip,
      device: info.device,
      details: { organization: org.name, organizationId: org.id },
    });

  return {
    /** A new organization with the account as its legal representative, and the current one. */
    async create(a: Account, input: OrganizationInput, info: RequestInfo): Promise<Organization> {
      if (!(await deps.limiter.hit('org-create', a.id, CREATIONS_PER_HOUR, 3600))) throw new AppError('rate_limited');
      const org = await repo.create(input, a.id);
      await accounts.setCurrentOrganization(a.id, org.id);
      await log(a, 'org_created', org, info);
      return org;
    },
    async update(
      actor: { account: Account; role: Actor },
      org: Organization,
      input: OrganizationInput,
      info: RequestInfo,
    ) {
      allow(canEditOrganization(actor.role));
      const updated = await repo.update(org.id, input);
      if (!updated) throw new AppError('not_found');
      await log(actor.account, 'org_updated', updated, info);
      return updated;
    },
    /** Once nobody else is in it and it has no application; never the account's only one. */
    async delete(a: Account, role: Actor, org: Organization, info: RequestInfo): Promise<void> {
      // The role first: an administrator is told no, not that the organization is not empty.
      allow(canDeleteOrganization(role, 1, 0));
      const done = await repo.deleteOrganization(org.id, a.id, (m, apps) => canDeleteOrganization(role, m, apps));
      if (!done.ok) throw new AppError(done.reason === 'refused' ? 'organization_not_empty' : 'only_organization');
      await log(a, 'org_deleted', org, info);
    },
    /** Any member may leave (a blocked one too), but not the last legal representative, and not
     *  one's only organization. Their grants and tokens for its applications go. */
    async leave(a: Account, org: Organization, info: RequestInfo): Promise<void> {
      const gone = await repo.removeMember(org.id, a.id, (r, count) => canLeave(r, count), 'refuse');
      if (!gone.ok) {
        if (gone.reason === 'not_member') throw new AppError('not_found');
        throw new AppError(gone.reason === 'refused' ? 'last_legal_rep' : 'only_organization');
      }
      await deps.accessRevoker.revokeMemberAccess(a.id, org.id);
      await log(a, 'org_left', org, info);
    },
  };
}
export type OrgService = ReturnType<typeof createOrgService>;
