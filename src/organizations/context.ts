// Which organization a page works in. Every account page knows the account's organizations and the
// current one (the switcher, remembered in accounts.current_organization_id); the pages of one
// organization (/account/organizations/:orgId/…) load it with the actor's membership, and refuse
// an id the account is not a member of exactly as one that does not exist (404): no page tells an
// outsider whether an organization exists.
import type { Next } from 'koa';
import type { AccountCtx, AccountState, Ctx } from '../http/context.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { OrganizationsRepo, Organization, Membership } from '../db/repositories/organizations.ts';
import { AppError } from '../errors.ts';
import { effectiveRole, type Actor } from './policy.ts';
import type { OrganizationChoice, OrganizationsView } from '../http/account-menu.ts';

export type { OrganizationChoice, OrganizationsView };

/** The state of a page of one organization: the organization, the actor's membership and the role
 *  the policy functions take (null while blocked). */
export interface OrgState extends AccountState {
  organization: Organization;
  membership: Membership;
  role: Actor;
}
export type OrgCtx = Ctx<OrgState>;

/** The current organization among `list`: the remembered one if the account is still in it. */
export function currentOf(list: OrganizationChoice[], remembered: string | null | undefined) {
  return list.find((o) => o.id === remembered) ?? list[0];
}

/** Throws forbidden unless `allowed` (a policy function's answer): the one way a route says no. */
export function allow(allowed: boolean): void {
  if (!allowed) throw new AppError('forbidden');
}

export function createOrganizationContext(deps: { repos: { organizations: OrganizationsRepo } }) {
  const repo = deps.repos.organizations;

  async function view(account: Account): Promise<OrganizationsView> {
    const rows = await repo.listForAccount(account.id);
    const list = rows.map(({ organization: o, membership: m }) => ({
      id: o.id,
      name: o.name,
      type: o.type,
      role: m.role,
      blocked: Boolean(m.blockedAt),
    }));
    return { list, current: currentOf(list, account.currentOrganizationId) };
  }

  /** One organization of the account's, with its membership and the role the policy takes; 404
   *  for one it is not a member of, exactly as for one that does not exist (pages and the API). */
  async function memberOf(
    account: Pick<Account, 'id'>,
    organizationId: string,
  ): Promise<{ organization: Organization; membership: Membership; role: Actor }> {
    const membership = await repo.membership(organizationId, account.id);
    const organization = membership && (await repo.findById(organizationId));
    if (!membership || !organization) throw new AppError('not_found');
    return { organization, membership, role: effectiveRole(membership) };
  }

  /** For routes with :orgId: the organization and the actor's membership, or 404. */
  async function loadOrganization(ctx: OrgCtx, next: Next) {
    Object.assign(ctx.state, await memberOf(ctx.state.account, String(ctx.params.orgId ?? '')));
    await next();
  }

  return {
    view,
    /** Run on every account page (http/require-account.ts): the switcher's data. */
    async accountPage(ctx: AccountCtx): Promise<void> {
      ctx.state.organizations = await view(ctx.state.account);
    },
    memberOf,
    loadOrganization,
    /** A route of a router typed on the account pages' state, under :orgId: loadOrganization, then
     *  `handler` with the organization's state (spread into the route's middleware). */
    inOrganization: (handler: (ctx: OrgCtx) => unknown) =>
      [
        loadOrganization as unknown as (ctx: AccountCtx, next: Next) => Promise<void>,
        (ctx: AccountCtx) => handler(ctx as unknown as OrgCtx),
      ] as const,
  };
}
export type OrganizationContext = ReturnType<typeof createOrganizationContext>;
