// The members pages of one organization: the list (role, 2FA, last sign-in, blocked and locked
// state; filtered and searched), one member's page (role change, removal, and the security
// console's actions, views/org/partials-member-security.eta). An account that is not a member of
// THIS organization is not found, in the URL as in a form.
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountState } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { Config } from '../config.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import { normalizeEmail } from '../db/repositories/accounts.ts';
import { ROLES } from '../db/schema.ts';
import type { Mailer } from '../notify/mailer.ts';
import { AppError } from '../errors.ts';
import { allow, type OrganizationContext, type OrgCtx } from './context.ts';
import { orgNav } from './nav.ts';
import { canChangeRole, canListMembers, canManageMembers, canRemoveMember } from './policy.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { AccessRevoker } from './revoke-access.ts';
import { createMemberService } from './member-service.ts';
import { MAX_MEMBER_SEARCH, memberQuery } from './member-filters.ts';
import { memberSecurityActions } from './member-security-routes.ts';
import { legalRepCount } from '../db/repositories/organizations.ts';

/** The notices the security console's actions come back with (member-security-routes.ts). */
const SECURITY_DONE = new Set(['blocked', 'unblocked', 'unlocked', 'not_locked', 'alerted']);

const RoleForm = z.object({ role: z.enum(ROLES) });
const RemoveForm = z.object({ confirm: z.literal('yes'), email: z.string().trim().max(254) });

export interface MemberRoutesDeps {
  config: Config;
  accountSession: AccountSession;
  organizationContext: OrganizationContext;
  accessRevoker: AccessRevoker;
  mailer: Mailer;
  limiter: RateLimiter;
  repos: { organizations: OrganizationsRepo; accounts: AccountsRepo; activity: ActivityRepo };
}

export function createMemberRouter(deps: MemberRoutesDeps) {
  const router = new Router<AccountState>({ prefix: '/account/organizations/:orgId/members' });
  router.use(deps.accountSession.requireAccount);
  const repo = deps.repos.organizations;
  const service = createMemberService(deps);
  const inOrg = deps.organizationContext.inOrganization;
  const base = (ctx: OrgCtx) => `/account/organizations/${ctx.state.organization.id}/members`;

  router.get(
    '/',
    ...inOrg(async (ctx) => {
      allow(canListMembers(ctx.state.role));
      const query = memberQuery(ctx.query);
      const rows = query.ok ? await repo.memberList(ctx.state.organization.id, query.filter) : [];
      const data = {
        organization: ctx.state.organization,
        rows: rows.map((r) => ({ ...r, twofa: r.factors > 0 })),
        roles: ROLES,
        values: query.values,
        errors: query.ok ? {} : query.errors,
        error: query.ok ? undefined : 'invalid_input',
        filtered: Object.keys(query.values).length > 0,
        maxSearch: MAX_MEMBER_SEARCH,
        zone: ctx.state.account.zoneinfo,
        canManage: canManageMembers(ctx.state.role),
        done: ctx.query.done === 'removed' ? 'removed' : undefined,
        orgNav: orgNav(ctx, 'members'),
      };
      renderPage(ctx, 'org/members', data, query.ok ? 200 : 400);
    }),
  );

  /** One member's page; `f` shows one of its forms again with the error. */
  async function memberPage(ctx: OrgCtx, f?: FormState & { form?: string }, status = 200) {
    const { organization, role, account } = ctx.state;
    allow(canListMembers(role));
    const all = await repo.memberList(organization.id);
    const row = all.find((m) => m.accountId === String(ctx.params.accountId));
    if (!row) throw new AppError('not_found');
    const legalReps = legalRepCount(all, row.accountId);
    const self = row.accountId === account.id;
    const roleChoices = ROLES.filter((r) => r !== row.role && canChangeRole(role, row.role, r, legalReps));
    const member = {
      accountId: row.accountId,
      email: row.email,
      name: row.name,
      role: row.role,
      blockedAt: row.blockedAt,
      lockedAt: row.lockedAt,
      twofa: row.factors > 0,
      lastSignInAt: row.lastSignInAt,
      joinedAt: row.joinedAt,
      self,
    };
    renderPage(
      ctx,
      'org/member',
      {
        organization,
        member,
        roleChoices,
        can: {
          manage: canManageMembers(role),
          changeRole: roleChoices.length > 0,
          remove: !self && canRemoveMember(role, row.role, legalReps),
        },
        // The security console's actions (block, unblock, unlock, alert), as the policy allows them.
        securityActions: memberSecurityActions(role, account.id, member),
        zone: account.zoneinfo,
        done: ctx.query.done === 'role' ? 'role' : undefined,
        securityDone:
          typeof ctx.query.done === 'string' && SECURITY_DONE.has(ctx.query.done) ? ctx.query.done : undefined,
        orgNav: orgNav(ctx, 'members'),
        form: f?.form,
        ...formData(f),
      },
      status,
    );
  }
  const again = (which: string) => (ctx: OrgCtx, f: FormState, status: number) =>
    memberPage(ctx, { ...f, form: which }, status);

  /** The member of the URL, in THIS organization, else 404 (before any policy or form); then only
   *  for those who may see members (before the form: its error page is the member page). */
  const inMember = (handler: (ctx: OrgCtx) => unknown) =>
    inOrg(async (ctx) => {
      if (!(await repo.membership(ctx.state.organization.id, String(ctx.params.accountId))))
        throw new AppError('not_found');
      allow(canListMembers(ctx.state.role));
      return handler(ctx);
    });

  router.get('/:accountId', ...inMember((ctx) => memberPage(ctx)));

  async function changeRole(ctx: OrgCtx, input: z.output<typeof RoleForm>) {
    const actor = { account: ctx.state.account, role: ctx.state.role };
    const memberId = String(ctx.params.accountId);
    const done = await service.changeRole(
      actor,
      ctx.state.organization,
      { memberId, to: input.role },
      requestInfo(ctx),
    );
    // The same role again changes nothing and tells nobody.
    seeOther(ctx, `${base(ctx)}/${memberId}${done.from === done.to ? '' : '?done=role'}`);
  }
  router.post('/:accountId/role', ...inMember(form(RoleForm, changeRole, again('role'), { limit: '4kb' })));

  async function remove(ctx: OrgCtx, input: z.output<typeof RemoveForm>) {
    const { account, role, organization } = ctx.state;
    // The policy first: a collaborator is refused whatever they typed.
    allow(canManageMembers(role));
    if (normalizeEmail(input.email) !== normalizeEmail(account.email))
      throw new AppError('confirm_own_email', { fields: ['email'] });
    await service.remove({ account, role }, organization, String(ctx.params.accountId), requestInfo(ctx));
    seeOther(ctx, `${base(ctx)}?done=removed`);
  }
  const removeOpts = { limit: '4kb', invalid: () => new AppError('confirm_own_email', { fields: ['email'] }) };
  router.post('/:accountId/remove', ...inMember(form(RemoveForm, remove, again('remove'), removeOpts)));
  return router;
}
