// Every operation of the management API, one file per resource; the OpenAPI document is made from
// this same list.
import type { ApiRoute } from '../route.ts';
import { buildOpenApi, type OpenApiOptions } from '../openapi.ts';
import { profileRoutes } from './profile.ts';
import { applicationRoutes } from './applications.ts';
import { organizationRoutes } from './organizations.ts';
import { memberRoutes } from './members.ts';
import { invitationRoutes } from './invitations.ts';
import { metaRoutes } from './meta.ts';
import { securityRoutes } from './security.ts';
import { sessionsRoutes } from './sessions.ts';
import { activityRoutes } from './activity.ts';
import { tokenRoutes } from './tokens.ts';
import { appPasswordRoutes } from './app-passwords.ts';
import type { ApiRouteDeps } from './deps.ts';

export function apiRoutes(deps: ApiRouteDeps, doc: Omit<OpenApiOptions, 'version'>): ApiRoute[] {
  let document: Record<string, unknown> | undefined;
  const routes: ApiRoute[] = [
    ...profileRoutes(deps),
    ...securityRoutes(deps),
    ...sessionsRoutes(deps),
    ...activityRoutes(deps),
    ...tokenRoutes(deps),
    ...appPasswordRoutes(deps),
    ...applicationRoutes(deps),
    ...organizationRoutes(deps),
    ...memberRoutes(deps),
    ...invitationRoutes(deps),
  ];
  routes.push(...metaRoutes(() => (document ??= buildOpenApi(routes, { ...doc, version: deps.version }))));
  return routes;
}
