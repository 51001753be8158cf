// Every router of the organizations feature, for app.ts to mount (before the account pages: they
// share the /account prefix).
import type { Deps } from '../deps.ts';
import { createSwitchRouter } from './switch-routes.ts';
import { createInvitations } from './invitations.ts';
import { createInvitationsRouter } from './invitation-routes.ts';
import { createInvitationPublicRouter } from './invitation-public-routes.ts';
import { createTeamsRouter } from './team-routes.ts';

export function createOrganizationRouters(deps: Deps) {
  const invitations = createInvitations({ ...deps, mailer: deps.later.mailer });
  return [
    createSwitchRouter(deps),
    createInvitationsRouter({ ...deps, invitations }),
    createInvitationPublicRouter({ ...deps, invitations }),
    createTeamsRouter(deps),
  ];
}
