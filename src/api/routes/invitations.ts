// /1/organizations/{id}/invitations: an organization's pending invitations, inviting someone by
// email, revoking an invitation — for who manages members, through the invitations service the
// page uses (the email, the rate limits, the activity entries). The invitation link's token is
// only ever in the email to the invited person, never in an answer.
import { z } from 'zod';
import { ROLES } from '../../db/schema.ts';
import type { Invitation } from '../../db/repositories/invitations.ts';
import { emailField } from '../../http/form.ts';
import { requestInfo } from '../../http/request-info.ts';
import { allow } from '../../organizations/context.ts';
import { canInvite, canManageMembers } from '../../organizations/policy.ts';
import { defineRoute, NoContent, uuidParam, type ApiRoute, pageOf, IdParams } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const InvitationData = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  invited_by: z.string().nullable().meta({ description: "The inviter's email address (null: their account is gone)." }),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
});
const InviteBody = z.strictObject({
  email: emailField,
  role: z.enum(ROLES).meta({ description: 'legal_representative: a legal representative only.' }),
});

const invitationOf = (i: Invitation, inviterEmail: string | null): z.input<typeof InvitationData> => ({
  id: i.id,
  email: i.email,
  role: i.role,
  invited_by: inviterEmail,
  created_at: i.createdAt.toISOString(),
  expires_at: i.expiresAt.toISOString(),
});

export function invitationRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const context = deps.organizationContext;
  const tag = 'Invitations';
  return [
    defineRoute({
      method: 'get',
      path: '/organizations/{id}/invitations',
      operationId: 'listInvitations',
      summary: "An organization's pending invitations",
      description: 'Administrators and legal representatives (403 forbidden otherwise).',
      tag,
      scopes: ['organizations:read', 'organizations:write'],
      params: IdParams,
      list: true,
      response: InvitationData,
      errors: ['forbidden'],
      handler: async ({ principal, params, paging }) => {
        const { organization, role } = await context.memberOf(principal.account, params.id);
        allow(canManageMembers(role));
        const pending = await deps.repos.invitations.pending(organization.id);
        return pageOf(pending, paging, (i) => invitationOf(i, i.inviterEmail));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/organizations/{id}/invitations',
      operationId: 'createInvitation',
      summary: 'Invite someone by email, with a role; the link goes to them by email only (valid 7 days)',
      description:
        'Administrators and legal representatives; the legal_representative role only a legal representative ' +
        '(403 forbidden). Someone already a member: 409 already_member.',
      tag,
      scopes: ['organizations:write'],
      params: IdParams,
      body: InviteBody,
      status: 201,
      response: InvitationData,
      errors: ['forbidden', 'already_member'],
      handler: async ({ principal, params, body, ctx }) => {
        const { organization, role } = await context.memberOf(principal.account, params.id);
        allow(canInvite(role, body.role));
        const made = await deps.invitations.invite(organization, principal.account, body, requestInfo(ctx));
        return invitationOf(made, principal.account.email);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/organizations/{id}/invitations/{invitation_id}',
      operationId: 'revokeInvitation',
      summary: 'Revoke a pending invitation: its link stops working',
      tag,
      scopes: ['organizations:write'],
      params: z.object({ id: uuidParam, invitation_id: uuidParam }),
      status: 204,
      response: NoContent,
      errors: ['forbidden'],
      handler: async ({ principal, params, ctx }) => {
        const { organization, role } = await context.memberOf(principal.account, params.id);
        allow(canManageMembers(role));
        await deps.invitations.revoke(organization, principal.account, params.invitation_id, requestInfo(ctx));
        return null;
      },
    }),
  ];
}
