// The Applications page: register OAuth clients, see the client ID and secret once, rotate the
// secret, edit, delete. Each change goes to the owner's activity log.
import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import type { AccountState, AccountCtx, Ctx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, NoFields, type FormState } from '../http/form.ts';
import type { ApplicationsRepo, Application } from '../db/repositories/applications.ts';
import { APP_TYPES, type AppType } from '../db/schema.ts';
import type { ApplicationsService } from './applications-service.ts';
import type { AccountSession } from '../http/require-account.ts';
import { AppError } from '../errors.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import { requestInfo } from '../http/request-info.ts';

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

/** `app` is set by owned() on the routes under /:id, and only there. */
interface AppState extends AccountState {
  app: Application;
}
type AppCtx = Ctx<AppState>;

export interface ApplicationsDeps {
  accountSession: AccountSession;
  repos: { applications: ApplicationsRepo; activity: ActivityRepo };
  applications: ApplicationsService;
  config: { issuer: string };
}

export function createApplicationsRouter(deps: ApplicationsDeps) {
  const { applications: service } = deps;
  const { issuer } = deps.config;
  const repo = deps.repos.applications;
  const router = new Router<AppState>({ prefix: '/account/applications' });
  router.use(deps.accountSession.requireAccount);

  /** App registrations are security changes too: each one goes to the owner's activity log. */
  type Change = 'app_created' | 'app_updated' | 'app_secret_rotated' | 'app_deleted';
  const log = (ctx: AccountCtx, type: Change, app: Application) => {
    const { ip, device } = requestInfo(ctx);
    return deps.repos.activity.record({
      accountId: ctx.state.account.id,
      type,
      ip,
      device,
      clientId: app.clientId,
      application: app.name,
    });
  };
  /** The application named in the URL, if this account owns it. */
  async function owned(ctx: AppCtx, next: Next) {
    const app = await repo.findOwned(ctx.state.account.id, String(ctx.params.id));
    if (!app) throw new AppError('not_found');
    ctx.state.app = app;
    await next();
  }
  const formPage = (ctx: AccountCtx, data: Record<string, unknown>, status = 200) =>
    renderPage(ctx, 'application-form', { types: APP_TYPES, ...data }, status);
  const newView = (ctx: AccountCtx, f: FormState, status: number) =>
    formPage(ctx, { mode: 'new', values: f.values, errors: f.errors, error: f.error }, status);
  const editView = (ctx: AppCtx, f: FormState, status: number) => {
    const { app } = ctx.state;
    formPage(
      ctx,
      { mode: 'edit', app, values: { ...f.values, type: app.type }, errors: f.errors, error: f.error },
      status,
    );
  };

  router.get('/', async (ctx) => {
    renderPage(ctx, 'applications', { apps: await repo.listByOwner(ctx.state.account.id), issuer });
  });
  router.get('/new', (ctx) => formPage(ctx, { mode: 'new', values: { type: 'web' } }));
  const newAppForm = appForm(service.schema);
  async function createApp(ctx: AccountCtx, input: z.output<typeof newAppForm>) {
    const { app, clientSecret } = await service.create(ctx.state.account.id, input);
    await log(ctx, 'app_created', app);
    renderPage(ctx, 'application-credentials', { app, clientSecret, issuer, created: true });
  }
  router.post('/', form(newAppForm, createApp, newView));

  router.get('/:id', owned, (ctx) => {
    const { app } = ctx.state;
    const values = {
      name: app.name,
      type: app.type,
      redirect_uris: app.redirectUris.join('\n'),
      post_logout_redirect_uris: app.postLogoutRedirectUris.join('\n'),
      backchannel_logout_uri: app.backchannelLogoutUri ?? '',
    };
    formPage(ctx, { mode: 'edit', app, values });
  });
  const editForm = (ctx: AppCtx) => appForm(service.schema, ctx.state.app.type);
  async function updateApp(ctx: AppCtx, input: z.output<ReturnType<typeof editForm>>) {
    await service.update(ctx.state.app, input);
    await log(ctx, 'app_updated', { ...ctx.state.app, name: input.name });
    seeOther(ctx, '/account/applications?saved=1');
  }
  router.post('/:id', owned, form(editForm, updateApp, editView));
  async function rotateSecret(ctx: AppCtx) {
    const clientSecret = await service.rotateSecret(ctx.state.app);
    await log(ctx, 'app_secret_rotated', ctx.state.app);
    renderPage(ctx, 'application-credentials', { app: ctx.state.app, clientSecret, issuer, created: false });
  }
  router.post('/:id/secret', owned, form(NoFields, rotateSecret));
  async function deleteApp(ctx: AppCtx) {
    await service.delete(ctx.state.app);
    await log(ctx, 'app_deleted', ctx.state.app);
    seeOther(ctx, '/account/applications?deleted=1');
  }
  router.post('/:id/delete', owned, form(NoFields, deleteApp));
  return router;
}
