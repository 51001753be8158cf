// createApp(deps): the Koa app with a fixed middleware order; it mounts each feature's routers, then
// hands the provider's own paths to oidc-provider. It never listens: tests import it.
import Koa from 'koa';
import compose from 'koa-compose';
import type { Deps } from './deps.ts';
import type { SesameState } from './http/context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { localeMiddleware } from './http/locale.ts';
import { createErrorHandler } from './http/error-handler.ts';
import { createStatic } from './http/static.ts';
import { createHealthRouter } from './http/health.ts';
import { createForwardAuth, FORWARD_AUTH_PATH } from './app-passwords/forward-auth.ts';
import { createInteractionRouter } from './interaction/router.ts';
import { createDeviceRouter } from './kauth/device-routes.ts';
import { createAccountRouters } from './account/routes.ts';
import { createOrganizationRouters } from './organizations/routes.ts';
import { isProviderPath, PROVIDER_ROUTES } from './oidc/routes.ts';
import { AppError } from './errors.ts';
import { DependencyDownError, RETRY_AFTER_SECONDS } from './lib/dependency.ts';
import type { Ctx } from './http/context.ts';
import { createInputGuard, createProtocolInputGuard } from './http/input-guard.ts';
import { createApiRouter, isApiPath, API_BODY_LIMIT } from './api/router.ts';
import { apiRoutes } from './api/routes/index.ts';
import { apiErrorText } from './api/envelope.ts';
import { createApiDocsRouter } from './api/docs-routes.ts';
import { translator } from './http/i18n.ts';
import type { ErrorCode } from './errors.ts';
import { VERSION } from './lib/version.ts';
import { createRequestId } from './http/request-id.ts';
import { createRequestMetrics, createMetricsEndpoint } from './http/metrics.ts';

/** The largest body a form of ours takes (second-factor answers: WebAuthn); each form has its own. */
const BODY_LIMIT = 128 * 1024;
/** oidc-provider's own limit (shared/selective_body.js). */
const PROVIDER_BODY_LIMIT = 56 * 1024;

/** A feature's router, whatever state its routes type. */
interface Mountable {
  routes(): unknown;
  allowedMethods(): unknown;
}

async function answerUnavailable(ctx: Ctx, errorHandler: ReturnType<typeof createErrorHandler>) {
  const err = ctx.state.dependencyDown;
  ctx.remove('Location');
  if (ctx.accepts('json', 'html') === 'html') return errorHandler(ctx, () => Promise.reject(err));
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'temporarily_unavailable', error_description: 'a dependency is briefly unavailable; retry' };
}

export function createApp(deps: Deps): Koa<SesameState> {
  const { config, provider, csrf } = deps;
  // Behind a proxy, the client is the address the nearest proxy saw: the last X-Forwarded-For entry.
  // The leftmost ones are whatever the client sent — trusting them would let anyone pick a new
  // address for every request, and with it a fresh rate-limit window.
  const app = new Koa<SesameState>({ proxy: config.trustProxy, maxIpsCount: 1 });
  app.silent = true;
  // oidc-provider runs on this app's context, so its signed cookies use this app's keys.
  app.keys = [...config.cookieSecrets];

  const routers: Mountable[] = [
    createHealthRouter(deps),
    createInteractionRouter(deps),
    createDeviceRouter(deps),
    createApiDocsRouter(),
    ...createOrganizationRouters(deps),
    ...createAccountRouters(deps),
  ];
  const ours = compose(routers.flatMap((r) => [r.routes(), r.allowedMethods()]) as never[]);
  const oidc = compose(provider.middleware as never[]);
  const onDown = (which: 'database' | 'store', err: unknown) => deps.outages[which].error(err);
  const errorHandler = createErrorHandler(deps.logger, (ctx) => deps.accountSession.currentAccount(ctx), onDown);
  const inputGuard = createInputGuard(BODY_LIMIT);
  const protocolInputGuard = createProtocolInputGuard(PROVIDER_BODY_LIMIT);
  // The management REST API: bearer tokens only (no cookie, so no CSRF to check), JSON only, its
  // own envelope for errors too (api/router.ts).
  const english = translator('en');
  const api = createApiRouter({
    // The API's body limit is its own (a small JSON body); the edge reads a little more so that the
    // API, not the edge, says what was too large.
    inputGuard: createInputGuard(API_BODY_LIMIT + 1024),
    logger: deps.logger,
    auth: deps.apiAuth,
    rateLimit: deps.apiRateLimit,
    onDown,
    routes: apiRoutes(
      { ...deps, version: VERSION },
      {
        issuer: config.issuer,
        scopeText: (scope) => english(`apiScopes.${scope}`),
        errorText: (code: ErrorCode) => apiErrorText(english, code),
      },
    ),
  });

  app.use(createRequestMetrics(deps.metrics));
  app.use(createRequestId({ trustProxy: config.trustProxy }));
  app.use(async (ctx, next) => {
    // Shutting down: every response asks its client to close, so keep-alive connections end.
    if (deps.lifecycle.draining) ctx.set('Connection', 'close');
    await next();
  });
  app.use(securityHeaders);
  app.use(createMetricsEndpoint(deps.metrics, config.metrics.token));
  // Reverse proxies ask here on every request of a sync client: ahead of everything else.
  const forwardAuth = createForwardAuth({ verifier: deps.syncVerifier, logger: deps.logger });
  app.use(async (ctx, next) => {
    if (ctx.path !== FORWARD_AUTH_PATH) return next();
    return errorHandler(ctx, () => forwardAuth(ctx));
  });
  app.use(createStatic());
  app.use(localeMiddleware);
  app.use(async (ctx, next) => {
    // The provider's own endpoints handle their errors in the protocol's format. Both refuse
    // characters the database cannot store before anything else reads the request.
    if (isProviderPath(ctx.path))
      return protocolInputGuard(ctx, async () => {
        // A token request while the store is known to be down would consume a refresh token (in
        // PostgreSQL) and then fail to save the access token: refuse it before it changes anything.
        // (Not a CORS preflight: the provider answers it without the store.)
        if (ctx.path === PROVIDER_ROUTES.token && ctx.method === 'POST' && !deps.store.available()) {
          ctx.state.dependencyDown = new DependencyDownError('store');
          return answerUnavailable(ctx, errorHandler);
        }
        await oidc(ctx, next);
        // PostgreSQL or Redis failed under the provider (provider-events.ts marked it): a 503 with
        // Retry-After, in the protocol's format for clients, our page for browsers.
        if (ctx.state.dependencyDown) return answerUnavailable(ctx, errorHandler);
        // An address or method the provider does not serve: our page (or JSON), not Koa's bare text.
        if (ctx.status === 404 && ctx.body == null)
          await errorHandler(ctx, () => Promise.reject(new AppError('not_found')));
      });
    if (isApiPath(ctx.path)) return api(ctx, next);
    return errorHandler(ctx, () => csrf(ctx, () => inputGuard(ctx, () => ours(ctx, next))));
  });
  return app;
}
