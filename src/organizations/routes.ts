// Every router of the organizations feature, for app.ts to mount (before the account pages: they
// share the /account prefix).
import type { Deps } from '../deps.ts';
import { createSwitchRouter } from './switch-routes.ts';
import { createSecurityConsoleRouter } from './console-routes.ts';
import { createMemberSecurityRouter } from './member-security-routes.ts';
import { createTwoFactorRequiredRouter } from './two-factor-gate.ts';

export function createOrganizationRouters(deps: Deps) {
  return [
    createSwitchRouter(deps),
    createSecurityConsoleRouter(deps),
    createMemberSecurityRouter(deps),
    createTwoFactorRequiredRouter(deps),
  ];
}
