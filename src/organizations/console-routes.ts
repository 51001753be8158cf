// The security console of one organization (/account/organizations/:orgId/security), for its
// administrators and legal representatives (canSetPolicy): "require 2FA for every member", switched
// on or off from a confirmation page (no inline script may run a dialog: the GET says what will
// happen, the POST carries confirm=yes); how many members have no second factor, with the members
// list filtered on them; and a security alert to every member without 2FA.
import Router from '@koa/router';
import { ORG_NOTICES_PER_HOUR } from './member-service.ts';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form } from '../http/form.ts';
import { AppError } from '../errors.ts';
import { allow, type OrgCtx, type OrgState } from './context.ts';
import { orgNav } from './nav.ts';
import { canSetPolicy, canAlertMember } from './policy.ts';
import { createConsoleQueries } from './console-queries.ts';
import { org2faRequiredEmail } from './console-emails.ts';
import { requestInfo } from '../http/request-info.ts';
import { createMemberAlerts } from './member-alerts.ts';

const RequireForm = z.object({ to: z.enum(['on', 'off']), confirm: z.literal('yes') });
const DONE = new Set(['required', 'not_required', 'unchanged', 'alerted']);

export function createSecurityConsoleRouter(deps: Deps) {
  const queries = createConsoleQueries(deps.database.db);
  const alerts = createMemberAlerts(deps);
  const router = new Router<OrgState>({ prefix: '/account/organizations/:orgId/security' });
  router.use(deps.accountSession.requireAccount, deps.organizationContext.loadOrganization, async (ctx, next) => {
    allow(canSetPolicy(ctx.state.role));
    await next();
  });
  const base = (ctx: OrgCtx) => `/account/organizations/${ctx.state.organization.id}`;

  router.get('/', async (ctx) => {
    const { organization } = ctx.state;
    const without = await queries.membersWithout2fa(organization.id);
    const done = typeof ctx.query.done === 'string' && DONE.has(ctx.query.done) ? ctx.query.done : undefined;
    const sent = Number.parseInt(String(ctx.query.sent ?? ''), 10);
    renderPage(ctx, 'org/security', {
      organization,
      orgNav: orgNav(ctx, 'security'),
      without2fa: without.length,
      membersWithout2faHref: `${base(ctx)}/members?twofa=off`,
      done,
      sent: Number.isFinite(sent) ? sent : 0,
    });
  });

  // The confirmation step: what switching it on (or off) does, then a button posting confirm=yes.
  router.get('/require', async (ctx) => {
    const to = ctx.query.to === 'off' ? 'off' : 'on';
    const { organization } = ctx.state;
    const without = await queries.membersWithout2fa(organization.id);
    renderPage(ctx, 'org/security-require', {
      organization,
      orgNav: orgNav(ctx, 'security'),
      to,
      without2fa: without.length,
      // An administrator without 2FA is among those sent to set it up, at once: the page warns them.
      selfWithout2fa: without.some((a) => a.id === ctx.state.account.id),
    });
  });

  async function setRequire(ctx: OrgCtx, input: z.output<typeof RequireForm>) {
    const { organization, account } = ctx.state;
    const on = input.to === 'on';
    if (!(await queries.setRequire2fa(organization.id, on)))
      return seeOther(ctx, `${base(ctx)}/security?done=unchanged`);
    // Every member's log says it (their own sign-ins change), the admin's among them.
    const type = on ? 'org_2fa_required' : 'org_2fa_not_required';
    const details = { organization: organization.name, organizationId: organization.id, by: account.email };
    for (const m of await deps.repos.organizations.members(organization.id)) {
      // What the sync channel accepts changes with it (app passwords only, once it is required).
      deps.accountChanges.announce(m.accountId);
      await deps.repos.activity.record({ ...requestInfo(ctx), accountId: m.accountId, type, details });
    }
    if (on)
      for (const member of await queries.membersWithout2fa(organization.id))
        if (await deps.limiter.hit('org-notice', member.id, ORG_NOTICES_PER_HOUR, 3600))
          await deps.mailer.send(org2faRequiredEmail(deps.config.issuer, member, { organization: organization.name }));
    seeOther(ctx, `${base(ctx)}/security?done=${on ? 'required' : 'not_required'}`);
  }
  const requireOpts = { limit: '8kb', invalid: () => new AppError('confirm_required') };
  router.post('/require', form(RequireForm, setRequire, undefined, requireOpts));

  // A security alert to every member without 2FA (each within its own per-member limit).
  async function alertAll(ctx: OrgCtx) {
    allow(canAlertMember(ctx.state.role));
    const { organization, account } = ctx.state;
    const by = { account, info: requestInfo(ctx) };
    let sent = 0;
    for (const member of await queries.membersWithout2fa(organization.id)) {
      if (member.id === account.id) continue;
      if (await alerts.send(by, organization, member, false)) sent++;
    }
    seeOther(ctx, `${base(ctx)}/security?done=alerted&sent=${sent}`);
  }
  router.post('/alert', form(z.object({}), alertAll, undefined, { limit: '8kb' }));
  return router;
}
