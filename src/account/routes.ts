// Every router of the self-service pages (and the public account pages: sign-up, recovery,
// unlock), for app.ts to mount. The start page comes last: it owns "/".
import type { Deps } from '../deps.ts';
import { createSignupRouter } from './signup-routes.ts';
import { createUnlockRouter } from './unlock-routes.ts';
import { createRecoveryRouter } from './recovery-routes.ts';
import { createProfileRouter, createConfirmEmailRouter } from './profile-routes.ts';
import { createApplicationsRouter } from './applications-routes.ts';
import { createSecurityRouter } from './security-routes.ts';
import { createActivityRouter } from './activity-routes.ts';
import { createSessionsRouter } from './sessions-routes.ts';
import { createCompromisedRouter } from './compromised-routes.ts';
import { createHomeRouter } from './home-routes.ts';
import { revokeApiTokens } from '../api/personal-tokens.ts';
import { revokeAppPasswords } from '../app-passwords/service.ts';

export function createAccountRouters(deps: Deps) {
  return [
    createSignupRouter(deps),
    createUnlockRouter(deps),
    createRecoveryRouter(deps),
    createConfirmEmailRouter(deps),
    createApplicationsRouter(deps),
    createSecurityRouter(deps),
    createActivityRouter(deps),
    createSessionsRouter(deps),
    createProfileRouter(deps),
    createCompromisedRouter({
      ...deps,
      revokers: [revokeAppPasswords(deps.appPasswords), revokeApiTokens(deps.personalTokens)],
    }),
    createHomeRouter(deps),
  ];
}
