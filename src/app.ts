// createApp(deps): the Koa app with a fixed middleware order, our routers, then the provider.
// It never listens: tests import it.
import Koa from 'koa';
import compose from 'koa-compose';
import type { Deps } from './deps.ts';
import type { SesameState } from './http/context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { localeMiddleware } from './http/locale.ts';
import { createErrorHandler } from './http/error-handler.ts';
import { createStatic } from './http/static.ts';
import { createInteractionRouter } from './interaction/routes.ts';
import { createSignupRouter } from './account/signup-routes.ts';
import { createSessionGuard } from './account/session-guard.ts';
import { createApplicationsRouter } from './account/applications-routes.ts';
import { createHomeRouter } from './account/home-routes.ts';
import { createSecurityRouter } from './account/security-routes.ts';
import { createDeviceRouter } from './api/device-routes.ts';
import { createUnlockRouter } from './account/unlock-routes.ts';
import { createActivityRouter } from './account/activity-routes.ts';
import { createSessionsRouter } from './account/sessions-routes.ts';
import { describeBrowser } from './lib/user-agent.ts';
import { createProfileRouter, createConfirmEmailRouter } from './account/profile-routes.ts';
import { createRecoveryRouter } from './account/recovery-routes.ts';
import { createCompromisedRouter } from './account/compromised-routes.ts';

export function createApp(deps: Deps): Koa<SesameState> {
  const { config, provider, csrf } = deps;
  const app = new Koa<SesameState>({ proxy: config.trustProxy });
  app.silent = true;
  // oidc-provider runs on this app's context, so its signed cookies use this app's keys.
  app.keys = [...config.cookieSecrets];

  const guard = createSessionGuard({
    provider, accounts: deps.repos.accounts, config,
    onActive: (uid, accountId, ctx) => deps.sessions.touch(uid, accountId, ctx.ip, describeBrowser(ctx.get('User-Agent'))),
  });
  const routers = [
    createInteractionRouter({ provider, csrf, loginAttempt: deps.loginAttempt, secondStep: deps.secondStep, finish: deps.finish, accountLocale: async (id) => (await deps.repos.accounts.findById(id))?.locale }),
    createSignupRouter({ config, csrf, accounts: deps.repos.accounts, password: deps.password, verification: deps.verification, limiter: deps.limiter }),
    createApplicationsRouter({ csrf, guard, repo: deps.repos.applications, service: deps.applications, issuer: config.issuer, activity: deps.repos.activity }),
    createSecurityRouter({ csrf, guard, reauth: deps.reauth, security: deps.security, totp: deps.factors.totp, webauthn: deps.factors.webauthn, sms: deps.factors.sms, push: deps.factors.push }),
    createDeviceRouter({ issuer: config.issuer, store: deps.store, accounts: deps.repos.accounts, auth: deps.deviceAuth, push: deps.factors.push, security: deps.security }),
    createUnlockRouter({
      csrf, lockout: deps.lockout, limiter: deps.limiter, perIp: config.rateLimits.loginPerIp,
      secondFactorRequired: (id) => deps.secondStep.required(id),
      checkCode: async (accountId, code, ip) => {
        const ceremony = { accountId, key: 'unlock', locale: 'en' as const, ip };
        for (const f of [deps.factors.totp, deps.factors.push, deps.factors.backupCodes]) if (code && await f.verify(ceremony, { code })) return true;
        return false;
      },
    }),
    createActivityRouter({ guard, repo: deps.repos.activity }),
    createSessionsRouter({ csrf, guard, sessions: deps.sessions, provider }),
    createProfileRouter({ csrf, guard, reauth: deps.reauth, profile: deps.profile, provider, encryptionKey: config.encryptionKey }),
    createConfirmEmailRouter({ csrf, profile: deps.profile }),
    createRecoveryRouter({ csrf, recovery: deps.recovery }),
    // App passwords and API tokens will register their revokers here when they exist.
    createCompromisedRouter({ csrf, guard, reauth: deps.reauth, profile: deps.profile, sessions: deps.sessions, provider, revokers: [] }),
    createHomeRouter({ guard }),
  ];
  const ours = compose(routers.flatMap((r) => [r.routes(), r.allowedMethods()]) as never[]);
  const oidc = compose(provider.middleware as never[]);
  const errorHandler = createErrorHandler(deps.logger);

  app.use(securityHeaders);
  app.use(createStatic());
  app.use(localeMiddleware);
  app.use(async (ctx, next) => {
    // The provider's own endpoints handle their errors in the protocol's format.
    if (isProviderPath(ctx.path)) return oidc(ctx, next);
    return errorHandler(ctx, () => csrf.middleware(ctx, () => ours(ctx, next)));
  });
  return app;
}

const PROVIDER_PATHS = ['/authorize', '/token', '/oauth2/userinfo', '/jwks', '/logout', '/par', '/.well-known/'];
function isProviderPath(p: string): boolean {
  return PROVIDER_PATHS.some((x) => p === x || p.startsWith(x.endsWith('/') ? x : `${x}/`));
}
