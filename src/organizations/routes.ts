// Every router of the organizations feature, for app.ts to mount (before the account pages: they
// share the /account prefix).
import type { Deps } from '../deps.ts';
import { createSwitchRouter } from './switch-routes.ts';
import { createAppAccessRouter } from './app-access-routes.ts';

export function createOrganizationRouters(deps: Deps) {
  return [createSwitchRouter(deps), createAppAccessRouter(deps)];
}
