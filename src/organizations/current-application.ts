// The Applications pages work inside the current organization (the switcher's choice). This loads
// the application named in the URL for the routes under /account/applications/:id: one of the
// current organization's, that the actor may see (organizations/policy.ts) — anything else, an id
// of another organization included, is 404, exactly as an id that does not exist.
import type { Next } from 'koa';
import type { AccountState, AccountCtx, Ctx } from '../http/context.ts';
import type { Application, ApplicationsRepo } from '../db/repositories/applications.ts';
import type { OrganizationChoice } from '../http/account-menu.ts';
import { AppError } from '../errors.ts';
import { canViewApplication, type Actor } from './policy.ts';

/** The current organization of an account page and the actor's role in it (null while blocked). */
export function currentOrganization(ctx: AccountCtx): { organization: OrganizationChoice | undefined; role: Actor } {
  return withRole(ctx.state.organizations?.current);
}

/** One of the account's organizations (the switcher's list) and the role the policy takes in it. */
export function withRole(organization: OrganizationChoice | undefined): {
  organization: OrganizationChoice | undefined;
  role: Actor;
} {
  return { organization, role: organization && !organization.blocked ? organization.role : null };
}

/** The application `id` of the organization, if the actor may see it (policy); undefined (404)
 *  for anything else: another organization's, one not granted, none. Pages and the API. */
export async function visibleApplication(
  repo: Pick<ApplicationsRepo, 'findInOrganization'>,
  actor: { organizationId: string; accountId: string; role: Actor },
  id: string,
): Promise<{ app: Application; granted: boolean } | undefined> {
  const found = await repo.findInOrganization(actor.organizationId, id, actor.accountId);
  return found && canViewApplication(actor.role, found.granted) ? found : undefined;
}

export interface CurrentAppState extends AccountState {
  app: Application;
  /** Granted to the actor directly or through a team. */
  granted: boolean;
  role: Actor;
  organization: OrganizationChoice;
}
export type CurrentAppCtx = Ctx<CurrentAppState>;

export function loadCurrentApplication(repo: Pick<ApplicationsRepo, 'findInOrganization'>) {
  return async function currentApplication(ctx: CurrentAppCtx, next: Next) {
    const { organization, role } = currentOrganization(ctx);
    if (!organization) throw new AppError('not_found');
    const actor = { organizationId: organization.id, accountId: ctx.state.account.id, role };
    const found = await visibleApplication(repo, actor, String(ctx.params.id ?? ''));
    if (!found) throw new AppError('not_found');
    ctx.state.app = found.app;
    ctx.state.granted = found.granted;
    ctx.state.role = role;
    ctx.state.organization = organization;
    await next();
  };
}
