// /1/organizations/{id}/members: an organization's members (for who may list them), a role change,
// the security console's actions (block, unblock, unlock, security alert) and a removal — the same
// services as the member pages (member-service.ts, member-security.ts), decided by
// organizations/policy.ts alone. Members are named by their integer user_id, as Infomaniak does; a
// user_id that is not a member of THIS organization is 404, exactly as one that does not exist.
import { z } from 'zod';
import { ROLES } from '../../db/schema.ts';
import { normalizeEmail } from '../../db/repositories/accounts.ts';
import type { Organization } from '../../db/repositories/organizations.ts';
import type { MemberRow } from '../../db/repositories/organization-members.ts';
import { AppError } from '../../errors.ts';
import { requestInfo } from '../../http/request-info.ts';
import type { Ctx } from '../../http/context.ts';
import { allow } from '../../organizations/context.ts';
import { canListMembers, canManageMembers, type Actor } from '../../organizations/policy.ts';
import { createMemberService } from '../../organizations/member-service.ts';
import { createMemberSecurity, type MemberTarget, type SecurityActor } from '../../organizations/member-security.ts';
import { MemberQuery } from '../../organizations/member-filters.ts';
import type { Principal } from '../authenticate.ts';
import { defineRoute, NoContent, uuidParam, type ApiRoute, pageOf, IdParams } from '../route.ts';
import type { ApiRouteDeps } from './deps.ts';

const MemberData = z.object({
  user_id: z.number().int().meta({ description: "The member's integer user id (as /1/profile's id)." }),
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  blocked: z
    .boolean()
    .meta({ description: 'Blocked: keeps the role, but may do nothing and sign in to none of its applications.' }),
  blocked_at: z.iso.datetime().nullable(),
  locked: z.boolean().meta({ description: 'The account (or one of its browsers) is locked after wrong answers.' }),
  has_2fa: z.boolean().meta({ description: 'Has a second factor enrolled.' }),
  joined_at: z.iso.datetime(),
  last_sign_in_at: z.iso.datetime().nullable(),
});

/** A positive integer in the path; anything else (or one too large to be an id) is 404. */
const userIdParam = z
  .string()
  .regex(/^[1-9]\d{0,9}$/)
  .transform(Number)
  .meta({ description: "The member's integer user_id." });
const MemberParams = z.object({ id: uuidParam, user_id: userIdParam });
const RoleBody = z.strictObject({ role: z.enum(ROLES) });
const RemoveBody = z.strictObject({
  confirm_email: z.string().max(254).meta({
    description: "The caller's own email address, as the member page asks it typed: a removal is on purpose.",
  }),
});

const memberOf = (r: MemberRow): z.input<typeof MemberData> => ({
  user_id: r.userId,
  name: r.name,
  email: r.email,
  role: r.role,
  blocked: r.blockedAt !== null,
  blocked_at: r.blockedAt?.toISOString() ?? null,
  locked: r.lockedAt !== null,
  has_2fa: r.factors > 0,
  joined_at: r.joinedAt.toISOString(),
  last_sign_in_at: r.lastSignInAt?.toISOString() ?? null,
});

export function memberRoutes(deps: ApiRouteDeps): ApiRoute[] {
  const repo = deps.repos.organizations;
  const context = deps.organizationContext;
  const members = createMemberService(deps);
  const security = createMemberSecurity(deps);

  /** The organization of the URL (404 unless a member) and, for who may list members, one member. */
  async function organizationOf(principal: Principal, id: string) {
    const { organization, role } = await context.memberOf(principal.account, id);
    // Before any member lookup: who may not see members learns nothing about who is one.
    allow(canListMembers(role));
    return { organization, role };
  }
  async function rowOf(organization: Organization, userId: number): Promise<MemberRow> {
    const [row] = await repo.memberList(organization.id, { userId });
    if (!row) throw new AppError('not_found');
    return row;
  }
  const actorOf = (principal: Principal, role: Actor, ctx: Ctx): SecurityActor => ({
    account: principal.account,
    role,
    info: requestInfo(ctx),
  });
  /** A security console action on the member of the URL, answered with the member as it left them. */
  const securityAction =
    (run: (actor: SecurityActor, org: Organization, t: MemberTarget) => Promise<unknown>) =>
    async (input: { principal: Principal; params: { id: string; user_id: number }; ctx: Ctx }) => {
      const { principal, params, ctx } = input;
      const { organization, role } = await organizationOf(principal, params.id);
      const row = await rowOf(organization, params.user_id);
      const target = await security.member(organization.id, row.accountId);
      if (!target) throw new AppError('not_found');
      await run(actorOf(principal, role, ctx), organization, target);
      return memberOf(await rowOf(organization, params.user_id));
    };

  const tag = 'Members';
  const read = ['organizations:read', 'organizations:write'] as const;
  const write = ['organizations:write'] as const;
  const action = (path: string, operationId: string, summary: string) => ({
    method: 'post' as const,
    path: `/organizations/{id}/members/{user_id}/${path}`,
    operationId,
    summary,
    tag,
    scopes: write,
    params: MemberParams,
    response: MemberData,
    errors: ['forbidden'] as const,
  });
  return [
    defineRoute({
      method: 'get',
      path: '/organizations/{id}/members',
      operationId: 'listMembers',
      summary: "An organization's members, with their role and security state",
      description:
        'Administrators and legal representatives (403 forbidden otherwise). Filters as the members page: ' +
        'q (part of the email or name), role, twofa (on|off), state (blocked|locked).',
      tag,
      scopes: read,
      params: IdParams,
      query: MemberQuery,
      list: true,
      response: MemberData,
      errors: ['forbidden'],
      handler: async ({ principal, params, query, paging }) => {
        const { organization } = await organizationOf(principal, params.id);
        const { q, ...rest } = query;
        const rows = await repo.memberList(organization.id, { ...rest, ...(q ? { q } : {}) });
        return pageOf(rows, paging, memberOf);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/organizations/{id}/members/{user_id}',
      operationId: 'getMember',
      summary: 'One member',
      tag,
      scopes: read,
      params: MemberParams,
      response: MemberData,
      errors: ['forbidden'],
      handler: async ({ principal, params }) => {
        const { organization } = await organizationOf(principal, params.id);
        return memberOf(await rowOf(organization, params.user_id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/organizations/{id}/members/{user_id}',
      operationId: 'changeMemberRole',
      summary: "Change a member's role (the caller's own too)",
      description:
        'As the policy allows: administrators and legal representatives; only a legal representative grants ' +
        'or takes legal_representative (403 forbidden); the last legal representative keeps the role (409 last_legal_rep).',
      tag,
      scopes: write,
      params: MemberParams,
      body: RoleBody,
      response: MemberData,
      errors: ['forbidden', 'last_legal_rep'],
      handler: async ({ principal, params, body, ctx }) => {
        const { organization, role } = await organizationOf(principal, params.id);
        const row = await rowOf(organization, params.user_id);
        const actor = { account: principal.account, role };
        await members.changeRole(actor, organization, { memberId: row.accountId, to: body.role }, requestInfo(ctx));
        return memberOf(await rowOf(organization, params.user_id));
      },
    }),
    defineRoute({
      ...action('block', 'blockMember', 'Block a member: their sign-ins and tokens for its applications end'),
      errors: ['forbidden', 'last_legal_rep'],
      handler: securityAction((actor, org, t) => security.block(actor, org, t)),
    }),
    defineRoute({
      ...action('unblock', 'unblockMember', 'Unblock a member'),
      handler: securityAction((actor, org, t) => security.unblock(actor, org, t)),
    }),
    defineRoute({
      ...action('unlock', 'unlockMember', "Unlock a member's locked account (nothing to do if it is not locked)"),
      handler: securityAction((actor, org, t) => security.unlock(actor, org, t)),
    }),
    defineRoute({
      ...action('security-alert', 'alertMember', 'Email a member what their security settings lack'),
      errors: ['forbidden', 'rate_limited'],
      handler: securityAction((actor, org, t) => security.alert(actor, org, t)),
    }),
    defineRoute({
      method: 'delete',
      path: '/organizations/{id}/members/{user_id}',
      operationId: 'removeMember',
      summary: 'Remove a member (never oneself: leave the organization instead)',
      description:
        'The body confirms it: `{"confirm_email": "<your own email address>"}` (400 confirm_own_email otherwise), ' +
        'as the member page asks. Their grants, tokens and sessions for its applications go.',
      tag,
      scopes: write,
      params: MemberParams,
      body: RemoveBody,
      status: 204,
      response: NoContent,
      errors: ['forbidden', 'last_legal_rep', 'confirm_own_email'],
      handler: async ({ principal, params, body, ctx }) => {
        const { organization, role } = await organizationOf(principal, params.id);
        const row = await rowOf(organization, params.user_id);
        // The policy first: a collaborator is refused whatever they typed.
        allow(canManageMembers(role));
        if (normalizeEmail(body.confirm_email) !== normalizeEmail(principal.account.email))
          throw new AppError('confirm_own_email', { fieldErrors: { confirm_email: 'email_mismatch' } });
        await members.remove({ account: principal.account, role }, organization, row.accountId, requestInfo(ctx));
        return null;
      },
    }),
  ];
}
