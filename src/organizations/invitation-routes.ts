// An organization's invitations page (administrators and legal representatives): the invite form
// and the pending invitations, each revocable. The legal-representative role is offered to, and
// accepted from, a legal representative only (policy.ts canInvite).
import Router from '@koa/router';
import { z } from 'zod';
import type { OrgCtx, OrgState, OrganizationContext } from './context.ts';
import { allow } from './context.ts';
import { canInvite, canManageMembers, type Actor } from './policy.ts';
import { orgNav } from './nav.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { emailField, form, formData, NoFields, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { InvitationsRepo } from '../db/repositories/invitations.ts';
import { ROLES } from '../db/schema.ts';
import type { Invitations } from './invitations.ts';

const InviteForm = z.object({ email: emailField, role: z.enum(ROLES) });

/** The roles an actor may invite with. */
const invitableRoles = (actor: Actor) => ROLES.filter((r) => canInvite(actor, r));

export function createInvitationsRouter(deps: {
  accountSession: AccountSession;
  organizationContext: OrganizationContext;
  repos: { invitations: InvitationsRepo };
  invitations: Invitations;
}) {
  const router = new Router<OrgState>({ prefix: '/account/organizations/:orgId/invitations' });
  router.use(deps.accountSession.requireAccount, deps.organizationContext.loadOrganization, async (ctx, next) => {
    allow(canManageMembers(ctx.state.role));
    await next();
  });
  const base = (ctx: OrgCtx) => `/account/organizations/${ctx.state.organization.id}/invitations`;

  async function page(ctx: OrgCtx, f?: FormState, status = 200) {
    const { organization, role, account } = ctx.state;
    renderPage(
      ctx,
      'org/invitations',
      {
        organization,
        orgNav: orgNav(ctx, 'invitations'),
        roles: invitableRoles(role),
        pending: await deps.repos.invitations.pending(organization.id),
        zone: account.zoneinfo,
        action: base(ctx),
        done: f ? undefined : typeof ctx.query.done === 'string' ? ctx.query.done : undefined,
        ...formData(f),
      },
      status,
    );
  }

  async function invite(ctx: OrgCtx, input: z.output<typeof InviteForm>) {
    allow(canInvite(ctx.state.role, input.role));
    const { organization, account } = ctx.state;
    await deps.invitations.invite(organization, account, input, requestInfo(ctx));
    seeOther(ctx, `${base(ctx)}?done=sent`);
  }

  async function revoke(ctx: OrgCtx) {
    const { organization, account } = ctx.state;
    await deps.invitations.revoke(organization, account, String(ctx.params.invitationId), requestInfo(ctx));
    seeOther(ctx, `${base(ctx)}?done=revoked`);
  }

  router.get('/', (ctx) => page(ctx));
  router.post('/', form(InviteForm, invite, page, { limit: '8kb' }));
  router.post('/:invitationId/revoke', form(NoFields, revoke, undefined, { limit: '8kb' }));
  return router;
}
