// The organization pages: the account's organizations, creating one, and one organization's
// overview (its details, editing them, deleting it, leaving it). Every :orgId goes through
// loadOrganization (404 for one the account is not in); every action asks the policy.
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountCtx, AccountState } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, type FormState } from '../http/form.ts';
import { AppError } from '../errors.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { Config } from '../config.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import { ORGANIZATION_TYPES } from '../db/schema.ts';
import { recoveryCountries } from '../factors/sms.ts';
import type { OrganizationContext, OrgCtx } from './context.ts';
import { orgNav } from './nav.ts';
import { canDeleteOrganization, canEditOrganization, canLeave } from './policy.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { legalRepCount } from '../db/repositories/organizations.ts';
import type { AccessRevoker } from './revoke-access.ts';
import { createOrgService } from './org-service.ts';
import { formatPhone } from './phone.ts';
import { OrganizationForm, organizationInput } from './organization-input.ts';

const ConfirmForm = z.object({ confirm: z.literal('yes') });
const DONE = ['created', 'updated', 'deleted', 'left'] as const;

export interface OrgRoutesDeps {
  config: Config;
  accountSession: AccountSession;
  organizationContext: OrganizationContext;
  accessRevoker: AccessRevoker;
  limiter: RateLimiter;
  repos: { organizations: OrganizationsRepo; accounts: AccountsRepo; activity: ActivityRepo };
}

export function createOrgRouter(deps: OrgRoutesDeps) {
  const router = new Router<AccountState>({ prefix: '/account/organizations' });
  router.use(deps.accountSession.requireAccount);
  const repo = deps.repos.organizations;
  const service = createOrgService(deps);
  const opts = { limit: '8kb' };
  const done = (ctx: AccountCtx) => DONE.find((d) => d === ctx.query.done);

  router.get('/', async (ctx) => {
    // The switcher's list, which every account page loads (organizations/context.ts).
    const orgs = ctx.state.organizations;
    const list = (orgs?.list ?? []).map((o) => ({ ...o, current: o.id === orgs?.current?.id }));
    renderPage(ctx, 'org/organizations', { list, done: done(ctx) });
  });

  const newPage = (ctx: AccountCtx, f?: FormState, status = 200) =>
    renderPage(
      ctx,
      'org/organization-new',
      {
        types: ORGANIZATION_TYPES,
        countries: recoveryCountries(ctx.state.locale),
        ...formData(f),
        values: { type: 'company', country: 'CH', ...f?.values },
      },
      status,
    );
  router.get('/new', (ctx) => newPage(ctx));
  async function create(ctx: AccountCtx, input: z.output<typeof OrganizationForm>) {
    const org = await service.create(ctx.state.account, organizationInput(input), requestInfo(ctx));
    seeOther(ctx, `/account/organizations/${org.id}?done=created`);
  }
  router.post('/new', form(OrganizationForm, create, newPage, opts));

  /** One organization's overview; `f` shows one of its forms again with the error. */
  async function overview(ctx: OrgCtx, f?: FormState & { form?: string }, status = 200) {
    const { organization: org, role, membership } = ctx.state;
    const members = await repo.members(org.id);
    const { applications } = await repo.counts(org.id);
    const legalReps = legalRepCount(members, membership.accountId);
    renderPage(
      ctx,
      'org/organization',
      {
        organization: org,
        phone: formatPhone(org.phone),
        role: membership.role,
        blocked: Boolean(membership.blockedAt),
        memberCount: members.length,
        applicationCount: applications,
        // The Applications pages show the current organization's: a link only when this one is.
        current: ctx.state.organizations?.current?.id === org.id,
        can: {
          edit: canEditOrganization(role),
          delete: canDeleteOrganization(role, members.length, applications),
          // The page explains why not, rather than hiding it from a legal representative.
          deleteRole: canDeleteOrganization(role, 1, 0),
          leave: canLeave(membership.role, legalReps),
        },
        only: (ctx.state.organizations?.list.length ?? 0) <= 1,
        orgNav: orgNav(ctx, 'overview'),
        types: ORGANIZATION_TYPES,
        countries: recoveryCountries(ctx.state.locale),
        done: done(ctx),
        form: f?.form,
        ...formData(f),
        values: {
          name: org.name,
          type: org.type,
          address: org.address ?? '',
          phone: org.phone ? formatPhone(org.phone) : '',
          country: 'CH',
          ...f?.values,
        },
      },
      status,
    );
  }
  const again = (which: string) => (ctx: OrgCtx, f: FormState, status: number) =>
    overview(ctx, { ...f, form: which }, status);

  /** A route of one organization: loaded (404 unless the account is in it), then `handler`. */
  const inOrg = deps.organizationContext.inOrganization;

  router.get('/:orgId', ...inOrg((ctx) => overview(ctx)));
  async function update(ctx: OrgCtx, input: z.output<typeof OrganizationForm>) {
    const { account, role, organization } = ctx.state;
    await service.update({ account, role }, organization, organizationInput(input), requestInfo(ctx));
    seeOther(ctx, `/account/organizations/${organization.id}?done=updated`);
  }
  router.post('/:orgId/edit', ...inOrg(form(OrganizationForm, update, again('edit'), opts)));
  async function remove(ctx: OrgCtx) {
    const { account, role, organization } = ctx.state;
    await service.delete(account, role, organization, requestInfo(ctx));
    seeOther(ctx, '/account/organizations?done=deleted');
  }
  const confirmOpts = { ...opts, invalid: () => new AppError('confirm_required') };
  router.post('/:orgId/delete', ...inOrg(form(ConfirmForm, remove, again('delete'), confirmOpts)));
  async function leave(ctx: OrgCtx) {
    await service.leave(ctx.state.account, ctx.state.organization, requestInfo(ctx));
    seeOther(ctx, '/account/organizations?done=left');
  }
  router.post('/:orgId/leave', ...inOrg(form(ConfirmForm, leave, again('leave'), confirmOpts)));
  return router;
}
