// The access page of one application (/account/applications/:id/access), for the administrators of
// its organization: who may manage it besides them (grants to members or teams of the same
// organization) and whether only the organization's members may sign in to it. A member or a team
// id of another organization grants nothing: the statement looks it up inside the organization, and
// the composite keys refuse it too (404 either way, never a 500). Each change is written to the
// admin's activity log, and a grant to a member to that member's as well.
import Router from '@koa/router';
import { z } from 'zod';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { ApplicationsRepo, GrantResult } from '../db/repositories/applications.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { ApplicationsService } from '../account/applications-service.ts';
import { AppError } from '../errors.ts';
import { allow } from './context.ts';
import { canManageApplications, canSetPolicy } from './policy.ts';
import { loadCurrentApplication, type CurrentAppCtx, type CurrentAppState } from './current-application.ts';
import { createOutsiderRevoker } from './members-only.ts';
import type Provider from 'oidc-provider';
import type { Db } from '../db/client.ts';

const MemberForm = z.object({ account_id: z.string().trim().max(64) });
const TeamForm = z.object({ team_id: z.string().trim().max(64) });
const RevokeForm = z.object({ grant_id: z.string().trim().max(64) });
const MembersOnlyForm = z.object({ members_only: z.literal('on').optional() });

const DONE = ['granted', 'already', 'revoked', 'members_only_on', 'members_only_off'] as const;

type AccessEvent = 'app_access_granted' | 'app_access_revoked' | 'app_members_only_changed';

export function createAppAccessRouter(deps: {
  accountSession: AccountSession;
  repos: { applications: ApplicationsRepo; organizations: OrganizationsRepo; activity: ActivityRepo };
  applications: ApplicationsService;
  provider: Provider;
  database: { db: Db };
}) {
  const repo = deps.repos.applications;
  const outsiders = createOutsiderRevoker({ db: deps.database.db, provider: deps.provider });
  const router = new Router<CurrentAppState>({ prefix: '/account/applications/:id/access' });
  router.use(deps.accountSession.requireAccount);
  router.use(loadCurrentApplication(repo));
  router.use(async (ctx, next) => {
    allow(canManageApplications(ctx.state.role));
    await next();
  });

  /** One entry in `accountId`'s log; details name the organization and the other person (or team). */
  const log = (ctx: CurrentAppCtx, accountId: string, type: AccessEvent, details: Record<string, unknown>) => {
    const { ip, device } = requestInfo(ctx);
    const { app, organization } = ctx.state;
    return deps.repos.activity.record({
      accountId,
      type,
      ip,
      device,
      clientId: app.clientId,
      application: app.name,
      details: { organization: organization.name, organizationId: organization.id, ...details },
    });
  };
  const back = (ctx: CurrentAppCtx, done: (typeof DONE)[number]) =>
    seeOther(ctx, `/account/applications/${ctx.state.app.id}/access?done=${done}`);
  const notFound = (r: GrantResult) => {
    if (r === 'not_found') throw new AppError('not_found');
  };

  async function page(ctx: CurrentAppCtx, f?: FormState, status = 200) {
    const { app, organization } = ctx.state;
    const [grants, members, teams] = await Promise.all([
      repo.grants(organization.id, app.id),
      deps.repos.organizations.members(organization.id),
      repo.teams(organization.id),
    ]);
    const direct = new Set(grants.map((g) => g.accountId).filter(Boolean));
    // Administrators manage every application already: the choice offers the others.
    const choices = members
      .filter((m) => !direct.has(m.accountId) && !canManageApplications(m.role))
      .map((m) => ({ accountId: m.accountId, email: m.email, role: m.role }));
    const granted = new Set(grants.map((g) => g.teamId).filter(Boolean));
    const done = DONE.find((d) => d === ctx.query.done);
    renderPage(
      ctx,
      'application-access',
      {
        app,
        organization,
        grants,
        members: choices,
        teams: teams.filter((t) => !granted.has(t.id)),
        // Teams exist but all have access already: not "no team" (a new administrator looked for it).
        allTeamsGranted: teams.length > 0 && teams.every((t) => granted.has(t.id)),
        done,
        ...formData(f),
      },
      status,
    );
  }
  router.get('/', (ctx) => page(ctx));

  async function grantMember(ctx: CurrentAppCtx, input: z.output<typeof MemberForm>) {
    const { app, organization, account } = ctx.state;
    const result = await repo.grantMember(organization.id, app.id, input.account_id);
    notFound(result);
    if (result === 'granted') {
      const member = (await deps.repos.organizations.members(organization.id)).find(
        (m) => m.accountId === input.account_id,
      );
      await log(ctx, account.id, 'app_access_granted', { member: member?.email });
      if (input.account_id !== account.id)
        await log(ctx, input.account_id, 'app_access_granted', { by: account.email });
    }
    back(ctx, result === 'granted' ? 'granted' : 'already');
  }
  router.post('/members', form(MemberForm, grantMember, page));

  async function grantTeam(ctx: CurrentAppCtx, input: z.output<typeof TeamForm>) {
    const { app, organization, account } = ctx.state;
    const result = await repo.grantTeam(organization.id, app.id, input.team_id);
    notFound(result);
    if (result === 'granted') {
      const team = (await repo.teams(organization.id)).find((t) => t.id === input.team_id);
      // The activity page shows details.member: the team's name stands there.
      await log(ctx, account.id, 'app_access_granted', { member: team?.name, team: team?.name });
    }
    back(ctx, result === 'granted' ? 'granted' : 'already');
  }
  router.post('/teams', form(TeamForm, grantTeam, page));

  async function revoke(ctx: CurrentAppCtx, input: z.output<typeof RevokeForm>) {
    const { app, organization, account } = ctx.state;
    const gone = await repo.revokeGrant(organization.id, app.id, input.grant_id);
    if (!gone) throw new AppError('not_found');
    if (gone.accountId) {
      await log(ctx, account.id, 'app_access_revoked', { member: gone.email });
      if (gone.accountId !== account.id) await log(ctx, gone.accountId, 'app_access_revoked', { by: account.email });
    } else await log(ctx, account.id, 'app_access_revoked', { member: gone.teamName, team: gone.teamName });
    back(ctx, 'revoked');
  }
  router.post('/revoke', form(RevokeForm, revoke, page));

  async function membersOnly(ctx: CurrentAppCtx, input: z.output<typeof MembersOnlyForm>) {
    allow(canSetPolicy(ctx.state.role));
    const on = input.members_only === 'on';
    const { app, organization } = ctx.state;
    if (await deps.applications.setMembersOnly(app, on)) {
      await log(ctx, ctx.state.account.id, 'app_members_only_changed', { membersOnly: on });
      // After the switch is saved: an outsider signing in meanwhile is refused by the check.
      if (on) await outsiders.revokeOutsiders(app.clientId, organization.id);
    }
    back(ctx, on ? 'members_only_on' : 'members_only_off');
  }
  router.post('/members-only', form(MembersOnlyForm, membersOnly, page));
  return router;
}
