// The Applications page: register OAuth clients, see the client ID and secret once, rotate the
// secret, edit, delete.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { SesameState, Ctx } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { formValues } from '../http/forms.ts';
import type { ApplicationsRepo, Application } from '../db/repositories/applications.ts';
import type { ApplicationsService } from './applications-service.ts';
import type { SessionGuard } from './session-guard.ts';
import { AppError } from '../errors.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import { requestInfo } from '../http/request-info.ts';

const lines = (v: string | undefined) => (v ?? '').split(/[\r\n]+/).map((s) => s.trim()).filter(Boolean);

export function createApplicationsRouter(deps: { csrf: Csrf; guard: SessionGuard; repo: ApplicationsRepo; service: ApplicationsService; issuer: string; activity: ActivityRepo }) {
  const { csrf, guard, repo, service, issuer } = deps;
  /** App registrations are security changes too: each one goes to the owner's activity log. */
  const log = (ctx: Ctx, type: 'app_created' | 'app_updated' | 'app_secret_rotated' | 'app_deleted', app: Application) => {
    const info = requestInfo(ctx);
    return deps.activity.record({ accountId: ctx.state.accountId!, type, ip: info.ip, device: info.device, clientId: app.clientId, application: app.name });
  };
  const router = new Router<SesameState>({ prefix: '/account/applications' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '64kb' }), guard.require);

  const owned = async (ctx: Ctx): Promise<Application> => {
    const app = await repo.findOwned(ctx.state.accountId!, String(ctx.params.id));
    if (!app) throw new AppError('not_found');
    return app;
  };
  const body = (ctx: Ctx) => {
    const b = ctx.request.body as Record<string, unknown>;
    csrf.verify(ctx, b?._csrf);
    return formValues(b);
  };
  const toInput = (v: Record<string, string>, type?: string) => ({
    name: v.name ?? '',
    type: type ?? v.type,
    redirectUris: lines(v.redirect_uris),
    postLogoutRedirectUris: lines(v.post_logout_redirect_uris),
    backchannelLogoutUri: v.backchannel_logout_uri?.trim() || null,
  });
  const fieldErrors = (issues: { path: PropertyKey[]; message: string; code: string }[]) =>
    Object.fromEntries(issues.map((i) => [String(i.path[0] ?? 'form'), i.code === 'custom' ? i.message : i.code]));

  router.get('/', async (ctx) => {
    renderPage(ctx, 'applications', { apps: await repo.listByOwner(ctx.state.accountId!), issuer });
  });

  router.get('/new', (ctx) => renderPage(ctx, 'application-form', { mode: 'new', values: { type: 'web' } }));

  router.post('/', async (ctx) => {
    const v = body(ctx);
    const parsed = service.schema.safeParse(toInput(v));
    if (!parsed.success) return renderPage(ctx, 'application-form', { mode: 'new', values: v, errors: fieldErrors(parsed.error.issues), error: 'invalid_input' }, 400);
    const { app, clientSecret } = await service.create(ctx.state.accountId!, parsed.data);
    await log(ctx, 'app_created', app);
    renderPage(ctx, 'application-credentials', { app, clientSecret, issuer, created: true });
  });

  router.get('/:id', async (ctx) => {
    const app = await owned(ctx);
    renderPage(ctx, 'application-form', {
      mode: 'edit', app,
      values: { name: app.name, type: app.type, redirect_uris: app.redirectUris.join('\n'), post_logout_redirect_uris: app.postLogoutRedirectUris.join('\n'), backchannel_logout_uri: app.backchannelLogoutUri ?? '' },
    });
  });

  router.post('/:id', async (ctx) => {
    const app = await owned(ctx);
    const v = body(ctx);
    const parsed = service.schema.safeParse(toInput(v, app.type));
    if (!parsed.success) return renderPage(ctx, 'application-form', { mode: 'edit', app, values: { ...v, type: app.type }, errors: fieldErrors(parsed.error.issues), error: 'invalid_input' }, 400);
    await repo.update(app.id, parsed.data);
    await log(ctx, 'app_updated', { ...app, name: parsed.data.name });
    ctx.status = 303;
    ctx.redirect('/account/applications?saved=1');
  });

  router.post('/:id/secret', async (ctx) => {
    const app = await owned(ctx);
    body(ctx);
    const clientSecret = await service.rotateSecret(app);
    await log(ctx, 'app_secret_rotated', app);
    renderPage(ctx, 'application-credentials', { app, clientSecret, issuer, created: false });
  });

  router.post('/:id/delete', async (ctx) => {
    const app = await owned(ctx);
    body(ctx);
    await repo.delete(app.id);
    await log(ctx, 'app_deleted', app);
    ctx.status = 303;
    ctx.redirect('/account/applications?deleted=1');
  });

  return router;
}
