// Who may sign in to an organization's application: a blocked member to none of them, an outsider
// not to a members-only one. Asked at every authorization (organizations/sign-in-checks.ts), so it
// is one indexed query and reads nothing cached: blocking a member or switching "members only" on
// holds from the next authorization, on every node.
import type { ApplicationsRepo } from '../db/repositories/applications.ts';

export type AccessRefusal = 'blocked' | 'not_member';

export function createAccessCheck(deps: { repos: { applications: Pick<ApplicationsRepo, 'signInAccess'> } }) {
  return {
    /** Why `accountId` may not sign in to `clientId`, or undefined when it may. */
    async refusal(accountId: string, clientId: string): Promise<AccessRefusal | undefined> {
      const access = await deps.repos.applications.signInAccess(clientId, accountId);
      if (!access) return undefined; // not a registered application (the provider's own client)
      if (access.blocked) return 'blocked';
      if (access.membersOnly && !access.member) return 'not_member';
      return undefined;
    },
  };
}
export type AccessCheck = ReturnType<typeof createAccessCheck>;
