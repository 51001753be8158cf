// The Applications page: register OAuth clients, see the client ID and secret once, rotate the
// secret, edit, delete. Each change goes to the owner's activity log. What a POST creates is shown
// on the GET page it redirects to, once (shown-once.ts); a new secret and a deletion are confirmed
// on a page of their own first.
import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import type { AccountState, AccountCtx, Ctx } from '../http/context.ts';
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
    const { app, clientSecret } = await service.create(ctx.state.account.id, input);
    await log(ctx, 'app_created', app);
    await showCredentials(ctx, app, clientSecret, true);
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
    const previous = { previousUntil: service.previousSecretUntil(app), ended: ctx.query.done === 'previous_ended' };
    formPage(ctx, { mode: 'edit', app, values, ...previous, zone: ctx.state.account.zoneinfo });
  });
  const editForm = (ctx: AppCtx) => appForm(service.schema, ctx.state.app.type);
  async function updateApp(ctx: AppCtx, input: z.output<ReturnType<typeof editForm>>) {
    await service.update(ctx.state.app, input);
    await log(ctx, 'app_updated', { ...ctx.state.app, name: input.name });
    seeOther(ctx, '/account/applications?saved=1');
  }
  router.post('/:id', owned, form(editForm, updateApp, editView));

  // The credentials page: the secret the POST before made, the first time only; a reload says it
  // was shown once and creates nothing.
  router.get('/:id/credentials', owned, async (ctx) => {
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
  router.get('/:id/secret', owned, (ctx) => {
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
  router.post('/:id/secret', owned, form(RotateForm, rotateSecret, rotatePage, rotateOpts));
  async function endPreviousSecret(ctx: AppCtx) {
    await service.endPreviousSecret(ctx.state.app);
    seeOther(ctx, `/account/applications/${ctx.state.app.id}?done=previous_ended`);
  }
  router.post('/:id/previous-secret', owned, form(NoFields, endPreviousSecret));

  // Deleting: the confirmation page names the application and asks for its name typed.
  const deletePage = (ctx: AppCtx, f?: FormState, status = 200) =>
    renderPage(ctx, 'application-delete', { app: ctx.state.app, ...formData(f) }, status);
  router.get('/:id/delete', owned, (ctx) => deletePage(ctx));
  async function deleteApp(ctx: AppCtx, input: z.output<typeof DeleteForm>) {
    if (input.confirm_name !== ctx.state.app.name.trim()) {
      const fieldErrors = { confirm_name: input.confirm_name ? 'name_mismatch' : 'required' };
      throw new AppError('confirm_app_name', { fields: ['confirm_name'], fieldErrors });
    }
    await service.delete(ctx.state.app);
    await log(ctx, 'app_deleted', ctx.state.app);
    seeOther(ctx, '/account/applications?deleted=1');
  }
  router.post('/:id/delete', owned, form(DeleteForm, deleteApp, deletePage));
  return router;
}
