// /1/organizations: the caller's organizations with their role, one of them, and changing its
// details as the organization page does (name, type, address, phone) — decided by
// organizations/policy.ts through the organization service. An organization the caller is not a
// member of is 404, exactly as one that does not exist.
import { z } from 'zod';
import { ORGANIZATION_TYPES, ROLES } from '../../db/schema.ts';
import type { Account } from '../../db/repositories/accounts.ts';
import type { Organization, Membership } from '../../db/repositories/organizations.ts';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import { allow } from '../../organizations/context.ts';
import { canEditOrganization } from '../../organizations/policy.ts';
import { createOrgService } from '../../organizations/org-service.ts';
import { OrganizationForm, organizationInput } from '../../organizations/organization-input.ts';
import { apiFieldErrors } from '../router.ts';
import { defineRoute, type ApiRoute, pageOf, IdParams } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const role = z.enum(ROLES).meta({ description: "The caller's role in the organization." });
const OrganizationSummary = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(ORGANIZATION_TYPES),
  role,
  blocked: z.boolean().meta({ description: 'The caller is blocked in it: they may do nothing there.' }),
  current: z.boolean().meta({ description: 'The current one: where /applications works without organization_id.' }),
});
const OrganizationData = OrganizationSummary.extend({
  address: z.string().nullable(),
  phone: z.string().nullable().meta({ description: 'E.164, e.g. +41446681800.' }),
  require_2fa: z.boolean(),
  created_at: z.iso.datetime(),
});
const UpdateBody = z
  .strictObject({
    name: z.string().max(200),
    type: z.enum(ORGANIZATION_TYPES),
    address: z.string().max(500),
    phone: z.string().max(40).meta({ description: 'International (+41…), or national in `country`; "" removes it.' }),
    country: z.string().max(2).meta({ description: 'ISO 3166 country of a national phone number (default CH).' }),
  })
  .partial();

export function organizationRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const context = deps.organizationContext;
  const service = createOrgService(deps);

  const isCurrent = async (account: Account, id: string) => (await context.view(account)).current?.id === id;
  const detailOf = (organization: Organization, membership: Membership, current: boolean) => ({
    id: organization.id,
    name: organization.name,
    type: organization.type,
    role: membership.role,
    blocked: Boolean(membership.blockedAt),
    current,
    address: organization.address,
    phone: organization.phone,
    require_2fa: organization.require2fa,
    created_at: organization.createdAt.toISOString(),
  });

  const tag = 'Organizations';
  return [
    defineRoute({
      method: 'get',
      path: '/organizations',
      operationId: 'listOrganizations',
      summary: "The caller's organizations, with their role in each",
      tag,
      scopes: ['organizations:read', 'organizations:write'],
      list: true,
      response: OrganizationSummary,
      handler: async ({ principal, paging }) => {
        const { list, current } = await context.view(principal.account);
        const items = list.map((o) => ({ ...o, current: o.id === current?.id }));
        return pageOf(items, paging, (o) => o);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/organizations/{id}',
      operationId: 'getOrganization',
      summary: 'One of the caller’s organizations',
      tag,
      scopes: ['organizations:read', 'organizations:write'],
      params: IdParams,
      response: OrganizationData,
      handler: async ({ principal, params }) => {
        const { organization, membership } = await context.memberOf(principal.account, params.id);
        return detailOf(organization, membership, await isCurrent(principal.account, organization.id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/organizations/{id}',
      operationId: 'updateOrganization',
      summary: "Change an organization's name, type, address or phone",
      description: 'Administrators and legal representatives (403 forbidden otherwise). Fields left out stay.',
      tag,
      scopes: ['organizations:write'],
      params: IdParams,
      body: UpdateBody,
      response: OrganizationData,
      errors: ['forbidden'],
      handler: async ({ principal, params, body, ctx }) => {
        const { organization, membership, role: actor } = await context.memberOf(principal.account, params.id);
        // The role first: a collaborator is told no whatever they sent.
        allow(canEditOrganization(actor));
        // The page's own form schema and phone check, over what stays of the current details.
        const merged = OrganizationForm.safeParse({
          name: organization.name,
          type: organization.type,
          address: organization.address ?? '',
          phone: organization.phone ?? '',
          ...body,
        });
        if (!merged.success)
          throw new AppError('validation_failed', { fieldErrors: apiFieldErrors(merged.error.issues) });
        let input;
        try {
          input = organizationInput(merged.data);
        } catch (err) {
          if (err instanceof AppError && err.code === 'phone_invalid')
            throw new AppError('validation_failed', { fieldErrors: { phone: 'invalid_format' } });
          throw err;
        }
        const info = requestInfo(ctx);
        const updated = await service.update({ account: principal.account, role: actor }, organization, input, info);
        return detailOf(updated, membership, await isCurrent(principal.account, organization.id));
      },
    }),
  ];
}
