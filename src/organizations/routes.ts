// Every router of the organizations feature, for app.ts to mount (before the account pages: they
// share the /account prefix). The organization router comes last: its /:orgId is the broadest path.
import type { Deps } from '../deps.ts';
import { createSwitchRouter } from './switch-routes.ts';
import { createSecurityConsoleRouter } from './console-routes.ts';
import { createMemberSecurityRouter } from './member-security-routes.ts';
import { createTwoFactorRequiredRouter } from './two-factor-gate.ts';
import { createOrgRouter } from './org-routes.ts';
import { createMemberRouter } from './member-routes.ts';
import { createInvitationsRouter } from './invitation-routes.ts';
import { createInvitationPublicRouter } from './invitation-public-routes.ts';
import { createTeamsRouter } from './team-routes.ts';
import { createAppAccessRouter } from './app-access-routes.ts';

export function createOrganizationRouters(deps: Deps) {
  return [
    createSwitchRouter(deps),
    createSecurityConsoleRouter(deps),
    createMemberSecurityRouter(deps),
    createTwoFactorRequiredRouter(deps),
    createInvitationsRouter(deps),
    createInvitationPublicRouter(deps),
    createTeamsRouter(deps),
    createAppAccessRouter(deps),
    createMemberRouter(deps),
    createOrgRouter(deps),
  ];
}
