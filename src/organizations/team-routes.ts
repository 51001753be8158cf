// An organization's teams (administrators and legal representatives): the list with member counts
// and a create form; one team's page with its members (add one of the organization's members,
// remove one), rename and delete. A team id of another organization, or an account that is not a
// member of this one, is a 404 and changes nothing.
import Router from '@koa/router';
import { z } from 'zod';
import type { OrgCtx, OrgState, OrganizationContext } from './context.ts';
import { allow } from './context.ts';
import { canManageMembers } from './policy.ts';
import { orgNav } from './nav.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { TeamsRepo, Team } from '../db/repositories/teams.ts';
import type { OrganizationsRepo } from '../db/repositories/organizations.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import { AppError } from '../errors.ts';

const teamName = z.string().trim().min(1).max(100);
const NameForm = z.object({ name: teamName });
const MemberForm = z.object({ account_id: z.string().trim().max(64) });
const DeleteForm = z.object({ confirm: z.string().optional() });

export function createTeamsRouter(deps: {
  accountSession: AccountSession;
  organizationContext: OrganizationContext;
  repos: { teams: TeamsRepo; organizations: OrganizationsRepo; accounts: AccountsRepo; activity: ActivityRepo };
}) {
  const { teams, organizations, activity } = deps.repos;
  const router = new Router<OrgState>({ prefix: '/account/organizations/:orgId/teams' });
  router.use(deps.accountSession.requireAccount, deps.organizationContext.loadOrganization, async (ctx, next) => {
    allow(canManageMembers(ctx.state.role));
    await next();
  });
  const listPath = (ctx: OrgCtx) => `/account/organizations/${ctx.state.organization.id}/teams`;
  const teamPath = (ctx: OrgCtx, team: Team) => `${listPath(ctx)}/${team.id}`;
  const doneOf = (ctx: OrgCtx, f?: FormState) =>
    f ? undefined : typeof ctx.query.done === 'string' ? ctx.query.done : undefined;

  /** The team of the URL, in this organization, or 404. */
  async function teamOf(ctx: OrgCtx): Promise<Team> {
    const team = await teams.find(ctx.state.organization.id, String(ctx.params.teamId ?? ''));
    if (!team) throw new AppError('not_found');
    return team;
  }

  async function record(ctx: OrgCtx, type: string, team: Team, member?: { id: string; email: string }) {
    const { organization, account } = ctx.state;
    const info = requestInfo(ctx);
    const base = { organization: organization.name, organizationId: organization.id, team: team.name };
    const seen = { ip: info.ip, device: info.device };
    await activity.record({
      accountId: account.id,
      type,
      ...seen,
      details: member ? { ...base, member: member.email } : base,
    });
    if (member && member.id !== account.id)
      await activity.record({ accountId: member.id, type, ...seen, details: { ...base, by: account.email } });
  }

  async function listPage(ctx: OrgCtx, f?: FormState, status = 200) {
    const { organization } = ctx.state;
    renderPage(
      ctx,
      'org/teams',
      {
        organization,
        orgNav: orgNav(ctx, 'teams'),
        teams: await teams.list(organization.id),
        action: listPath(ctx),
        done: doneOf(ctx, f),
        ...formData(f),
      },
      status,
    );
  }

  async function teamPage(ctx: OrgCtx, f?: FormState, status = 200) {
    const { organization } = ctx.state;
    const team = await teams.find(organization.id, String(ctx.params.teamId ?? ''));
    if (!team) return renderPage(ctx, 'error', { code: 'not_found' }, 404);
    const members = await teams.members(organization.id, team.id);
    const inTeam = new Set(members.map((m) => m.accountId));
    const candidates = (await organizations.members(organization.id)).filter((m) => !inTeam.has(m.accountId));
    renderPage(
      ctx,
      'org/team',
      {
        organization,
        orgNav: orgNav(ctx, 'teams'),
        team,
        members,
        candidates,
        action: teamPath(ctx, team),
        back: listPath(ctx),
        done: doneOf(ctx, f),
        ...formData(f),
      },
      status,
    );
  }

  async function create(ctx: OrgCtx, input: z.output<typeof NameForm>) {
    const team = await teams.create(ctx.state.organization.id, input.name);
    if (!team) throw new AppError('team_name_taken', { fields: ['name'] });
    await record(ctx, 'org_team_created', team);
    seeOther(ctx, `${teamPath(ctx, team)}?done=created`);
  }

  async function rename(ctx: OrgCtx, input: z.output<typeof NameForm>) {
    const team = await teamOf(ctx);
    const renamed = await teams.rename(ctx.state.organization.id, team.id, input.name);
    if (renamed === 'taken') throw new AppError('team_name_taken', { fields: ['name'] });
    if (!renamed) throw new AppError('not_found');
    seeOther(ctx, `${teamPath(ctx, team)}?done=renamed`);
  }

  async function addMember(ctx: OrgCtx, input: z.output<typeof MemberForm>) {
    const team = await teamOf(ctx);
    const orgId = ctx.state.organization.id;
    // Checked here for a clean 404; the database's composite key refuses it as well.
    const membership = await organizations.membership(orgId, input.account_id);
    if (!membership) throw new AppError('not_found');
    const added = await teams.addMember(orgId, team.id, input.account_id);
    if (added === 'refused') throw new AppError('not_found');
    if (added === 'added') {
      const member = await deps.repos.accounts.findById(input.account_id);
      if (member) await record(ctx, 'org_team_member_added', team, member);
    }
    seeOther(ctx, `${teamPath(ctx, team)}?done=added`);
  }

  async function removeMember(ctx: OrgCtx) {
    const team = await teamOf(ctx);
    const accountId = String(ctx.params.accountId ?? '');
    if (!(await teams.removeMember(ctx.state.organization.id, team.id, accountId))) throw new AppError('not_found');
    const member = await deps.repos.accounts.findById(accountId);
    if (member) await record(ctx, 'org_team_member_removed', team, member);
    seeOther(ctx, `${teamPath(ctx, team)}?done=removed`);
  }

  async function remove(ctx: OrgCtx, input: z.output<typeof DeleteForm>) {
    const team = await teamOf(ctx);
    if (input.confirm !== 'yes') throw new AppError('confirm_required', { fields: ['confirm'] });
    const deleted = await teams.remove(ctx.state.organization.id, team.id);
    if (!deleted) throw new AppError('not_found');
    await record(ctx, 'org_team_deleted', deleted);
    seeOther(ctx, `${listPath(ctx)}?done=deleted`);
  }

  const opts = { limit: '8kb' };
  router.get('/', (ctx) => listPage(ctx));
  router.post('/', form(NameForm, create, listPage, opts));
  router.get('/:teamId', (ctx) => teamPage(ctx));
  router.post('/:teamId/rename', form(NameForm, rename, teamPage, opts));
  router.post('/:teamId/members', form(MemberForm, addMember, teamPage, opts));
  router.post('/:teamId/members/:accountId/remove', form(z.object({}), removeMember, teamPage, opts));
  router.post('/:teamId/delete', form(DeleteForm, remove, teamPage, opts));
  return router;
}
