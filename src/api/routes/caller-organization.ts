// Which organization an API call works in, found as the pages find it (organizations/context.ts):
// the account's current one (accounts.current_organization_id, else the first), or the one an
// `organization_id` names — one the caller belongs to; any other id is 404, exactly as one that
// does not exist. The role is the one the policy functions take (null while blocked).
import { z } from 'zod';
import type { Account } from '../../db/repositories/accounts.ts';
import { AppError } from '../../errors.ts';
import type { OrganizationContext } from '../../organizations/context.ts';
import { withRole } from '../../organizations/current-application.ts';
import type { OrganizationChoice } from '../../http/account-menu.ts';
import type { Actor } from '../../organizations/policy.ts';

export const organizationIdField = z
  .string()
  .max(100)
  .optional()
  .meta({ description: "One of the caller's organizations; without it, the current one (as on the pages)." });

export function callerOrganization(context: Pick<OrganizationContext, 'view'>) {
  return async function organizationOf(
    account: Account,
    organizationId: string | undefined,
  ): Promise<{ organization: OrganizationChoice; role: Actor }> {
    const view = await context.view(account);
    const chosen = organizationId === undefined ? view.current : view.list.find((o) => o.id === organizationId);
    const { organization, role } = withRole(chosen);
    if (!organization) throw new AppError('not_found');
    return { organization, role };
  };
}
