// The Applications page: register OAuth clients, see the client ID and secret once, rotate the
// secret, edit, delete. It works inside the current organization (the switcher's choice): who sees
// and changes which application is decided by organizations/policy.ts alone — administrators every
// one, a collaborator those granted to them, an external user those granted, read-only. Each change
// goes to the actor's activity log. What a POST creates is shown on the GET page it redirects to,
// once (shown-once.ts); a new secret and a deletion are confirmed on a page of their own first.
import Router from '@koa/router';
import { z } from 'zod';
import type { AccountCtx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, NoFields, type FormState } from '../http/form.ts';
import type { ApplicationsRepo, Application } from '../db/repositories/applications.ts';
import { APP_TYPES, type AppType } from '../db/schema.ts';
import {
  SECRET_GRACE_DEFAULT_MINUTES,
  SECRET_GRACE_MAX_MINUTES,
  type ApplicationsService,
} from './applications-service.ts';
import type { ShownOnce } from './shown-once.ts';
import type { AccountSession } from '../http/require-account.ts';
import { AppError } from '../errors.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import { requestInfo } from '../http/request-info.ts';
import { recordAppChange, type AppChange } from './application-activity.ts';
import { allow } from '../organizations/context.ts';
import { canDeleteApplication, canManageApplication, canManageApplications } from '../organizations/policy.ts';
import {
  currentOrganization,
  loadCurrentApplication,
  type CurrentAppCtx,
  type CurrentAppState,
} from '../organizations/current-application.ts';

const lines = (v: string | undefined) =>
  (v ?? '')
    .split(/[\r\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The form's fields, turned into what the service's schema checks (which names each problem). */
function appForm(schema: ApplicationsService['schema'], fixedType?: AppType) {
  return z.preprocess((raw) => {
    const v = raw as Record<string, string | undefined>;
    return {
      name: v.name ?? '',
      type: fixedType ?? v.type,
      redirectUris: lines(v.redirect_uris),
      postLogoutRedirectUris: lines(v.post_logout_redirect_uris),
      backchannelLogoutUri: v.backchannel_logout_uri?.trim() || null,
    };
  }, schema);
}

type AppCtx = CurrentAppCtx;

/** The grace periods the confirmation page offers (minutes); the form accepts any in 0…24 h. */
const GRACE_CHOICES = [0, 15, SECRET_GRACE_DEFAULT_MINUTES, 4 * 60, 12 * 60, SECRET_GRACE_MAX_MINUTES];
const RotateForm = z.object({
  grace_minutes: z.coerce.number().int().min(0).max(SECRET_GRACE_MAX_MINUTES),
  confirm: z.literal('yes'),
});
const DeleteForm = z.object({ confirm_name: z.string().trim().max(200) });
const confirmRequired = () => new AppError('confirm_required');

export interface ApplicationsDeps {
  accountSession: AccountSession;
  repos: { applications: ApplicationsRepo; activity: ActivityRepo };
  applications: ApplicationsService;
  shownOnce: ShownOnce;
  config: { issuer: string };
}

export function createApplicationsRouter(deps: ApplicationsDeps) {
  const { applications: service, shownOnce } = deps;
  const { issuer } = deps.config;
  const repo = deps.repos.applications;
  const router = new Router<CurrentAppState>({ prefix: '/account/applications' });
  router.use(deps.accountSession.requireAccount);

  /** App registrations are security changes too: each one goes to the actor's activity log. */
  const log = (ctx: AccountCtx, type: AppChange, app: Application) =>
    recordAppChange(
      deps.repos.activity,
      { accountId: ctx.state.account.id, organization: ctx.state.organizations?.current, info: requestInfo(ctx) },
      type,
      app,
    );
  /** The application named in the URL: one of the current organization's the actor may see. */
  const inOrganization = loadCurrentApplication(repo);
  /** …and may change (a collaborator one granted to them): 403 otherwise. */
  async function manageable(ctx: AppCtx, next: () => Promise<unknown>) {
    allow(canManageApplication(ctx.state.role, ctx.state.granted));
    await next();
  }
  const managed = [inOrganization, manageable] as const;
  /** Registering one: an administrator of the current organization. */
  function mayCreate(ctx: AccountCtx) {
    const { organization, role } = currentOrganization(ctx);
    if (!organization || !canManageApplications(role)) throw new AppError('forbidden');
    return organization;
  }
  const formPage = (ctx: AccountCtx, data: Record<string, unknown>, status = 200) =>
    renderPage(
      ctx,
      'application-form',
      { types: APP_TYPES, organization: ctx.state.organizations?.current, ...data },
      status,
    );
  const newView = (ctx: AccountCtx, f: FormState, status: number) =>
    formPage(ctx, { mode: 'new', values: f.values, errors: f.errors, error: f.error }, status);
  const editView = (ctx: AppCtx, f: FormState, status: number) => {
    const { app } = ctx.state;
    const may = { canDelete: canDeleteApplication(ctx.state.role), canAccess: canManageApplications(ctx.state.role) };
    formPage(
      ctx,
      { mode: 'edit', app, values: { ...f.values, type: app.type }, errors: f.errors, error: f.error, ...may },
      status,
    );
  };

  router.get('/', async (ctx) => {
    const { organization, role } = currentOrganization(ctx);
    const all = canManageApplications(role);
    // A blocked member sees none; a collaborator or an external user those granted to them.
    const apps = organization && role ? await repo.listForMember(organization.id, ctx.state.account.id, all) : [];
    renderPage(ctx, 'applications', { apps, issuer, organization, canCreate: all });
  });
  router.get('/new', (ctx) => {
    mayCreate(ctx);
    formPage(ctx, { mode: 'new', values: { type: 'web' } });
  });
  /** Post/redirect/get: the secret goes to the credentials page, which shows it once. */
  async function showCredentials(
    ctx: AccountCtx,
    app: Application,
    clientSecret: string | undefined,
    created: boolean,
  ) {
    const id = await shownOnce.keep(ctx, 'app-credentials', { appId: app.id, clientSecret, created });
    seeOther(ctx, `/account/applications/${app.id}/credentials?shown=${id}`);
  }
  const newAppForm = appForm(service.schema);
  async function createApp(ctx: AccountCtx, input: z.output<typeof newAppForm>) {
    // In the current organization; owner_id records who registered it.
    const organization = mayCreate(ctx);
    const { app, clientSecret } = await service.create(ctx.state.account.id, input, organization.id);
    await log(ctx, 'app_created', app);
    await showCredentials(ctx, app, clientSecret, true);
  }
  router.post('/', (ctx, next) => (mayCreate(ctx), next()), form(newAppForm, createApp, newView));

  router.get('/:id', inOrganization, (ctx) => {
    const { app, role, granted, organization } = ctx.state;
    // Read-only for whoever may see it but not change it (an external user): no secret actions.
    if (!canManageApplication(role, granted)) return renderPage(ctx, 'application-view', { app, organization });
    const values = {
      name: app.name,
      type: app.type,
      redirect_uris: app.redirectUris.join('\n'),
      post_logout_redirect_uris: app.postLogoutRedirectUris.join('\n'),
      backchannel_logout_uri: app.backchannelLogoutUri ?? '',
    };
    const previous = { previousUntil: service.previousSecretUntil(app), ended: ctx.query.done === 'previous_ended' };
    const may = { canDelete: canDeleteApplication(role), canAccess: canManageApplications(role) };
    formPage(ctx, { mode: 'edit', app, values, ...previous, ...may, zone: ctx.state.account.zoneinfo });
  });
  const editForm = (ctx: AppCtx) => appForm(service.schema, ctx.state.app.type);
  async function updateApp(ctx: AppCtx, input: z.output<ReturnType<typeof editForm>>) {
    await service.update(ctx.state.app, input);
    await log(ctx, 'app_updated', { ...ctx.state.app, name: input.name });
    seeOther(ctx, '/account/applications?saved=1');
  }
  router.post('/:id', ...managed, form(editForm, updateApp, editView));

  // The credentials page: the secret the POST before made, the first time only; a reload says it
  // was shown once and creates nothing.
  router.get('/:id/credentials', ...managed, async (ctx) => {
    const { app } = ctx.state;
    const shown = await shownOnce.take(ctx, 'app-credentials', ctx.query.shown);
    const result = shown?.appId === app.id ? shown : undefined;
    renderPage(ctx, 'application-credentials', {
      app,
      issuer,
      clientSecret: result?.clientSecret,
      created: result?.created,
      spent: !result && app.type !== 'spa',
    });
  });

  // A new secret: confirmed on its own page, where the owner chooses how long the current one
  // keeps working (a misclick must not take a live site's sign-in down).
  const rotatePage = (ctx: AppCtx, f?: FormState, status = 200) => {
    const values = { grace_minutes: String(SECRET_GRACE_DEFAULT_MINUTES), ...formData(f).values };
    renderPage(
      ctx,
      'application-rotate',
      { app: ctx.state.app, choices: GRACE_CHOICES, ...formData(f), values },
      status,
    );
  };
  router.get('/:id/secret', ...managed, (ctx) => {
    if (ctx.state.app.type === 'spa') throw new AppError('not_found');
    rotatePage(ctx);
  });
  async function rotateSecret(ctx: AppCtx, input: z.output<typeof RotateForm>) {
    const clientSecret = await service.rotateSecret(ctx.state.app, input.grace_minutes);
    if (!clientSecret) throw new AppError('not_found');
    await log(ctx, 'app_secret_rotated', ctx.state.app);
    await showCredentials(ctx, ctx.state.app, clientSecret, false);
  }
  const rotateOpts = { invalid: confirmRequired };
  router.post('/:id/secret', ...managed, form(RotateForm, rotateSecret, rotatePage, rotateOpts));
  async function endPreviousSecret(ctx: AppCtx) {
    await service.endPreviousSecret(ctx.state.app);
    seeOther(ctx, `/account/applications/${ctx.state.app.id}?done=previous_ended`);
  }
  router.post('/:id/previous-secret', ...managed, form(NoFields, endPreviousSecret));

  // Deleting: the confirmation page names the application and asks for its name typed.
  const deletePage = (ctx: AppCtx, f?: FormState, status = 200) =>
    renderPage(ctx, 'application-delete', { app: ctx.state.app, ...formData(f) }, status);
  const deletable = [
    inOrganization,
    (ctx: AppCtx, next: () => Promise<unknown>) => (allow(canDeleteApplication(ctx.state.role)), next()),
  ] as const;
  router.get('/:id/delete', ...deletable, (ctx) => deletePage(ctx));
  async function deleteApp(ctx: AppCtx, input: z.output<typeof DeleteForm>) {
    if (input.confirm_name !== ctx.state.app.name.trim()) {
      const fieldErrors = { confirm_name: input.confirm_name ? 'name_mismatch' : 'required' };
      throw new AppError('confirm_app_name', { fields: ['confirm_name'], fieldErrors });
    }
    await service.delete(ctx.state.app);
    await log(ctx, 'app_deleted', ctx.state.app);
    seeOther(ctx, '/account/applications?deleted=1');
  }
  router.post('/:id/delete', ...deletable, form(DeleteForm, deleteApp, deletePage));
  return router;
}
