// /interaction/:uid — the pages oidc-provider sends the browser to. Each route is one short
// pipeline: loadInteraction → requirePrompt → (requirePendingLogin) → form → its step.
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { CheckPassword } from '../login/check-password.ts';
import type { Finisher } from '../login/finish.ts';
import type { SecondStep } from '../login/second-step.ts';
import type { PendingLogins } from '../login/pending-login.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ApplicationsRepo } from '../db/repositories/applications.ts';
import type { Sessions } from '../account/sessions.ts';
import {
  createLoadInteraction,
  requirePrompt,
  requirePendingLogin,
  type InteractionState,
} from './load-interaction.ts';
import { createSecondFactorPage, createConsentPage } from './pages.ts';
import { createShowInteraction } from './show.ts';
import { createPasswordStep } from './password-step.ts';
import { createSecondFactorRoutes } from './second-factor.ts';
import { createSecondFactorStatus } from './second-factor-status.ts';
import { createConsent } from './consent.ts';
import { createVerifyFirst } from './verify-first.ts';
import type { EmailVerification } from '../account/email-verification.ts';
import type { TwoFactorPolicy } from '../organizations/two-factor-policy.ts';
import { createOrganizationPromptPage } from '../organizations/two-factor-prompt.ts';

export interface InteractionDeps {
  provider: Provider;
  checkPassword: CheckPassword;
  secondStep: SecondStep;
  pending: PendingLogins;
  finish: Finisher;
  repos: { accounts: AccountsRepo; applications: ApplicationsRepo };
  sessions: Sessions;
  verification: EmailVerification;
  twoFactorPolicy: TwoFactorPolicy;
}

export function createInteractionRouter(deps: InteractionDeps) {
  const { provider, secondStep, pending, finish } = deps;
  const router = new Router<InteractionState>({ prefix: '/interaction/:uid' });
  const load = createLoadInteraction({ provider, pending, accounts: deps.repos.accounts });
  const secondFactorPage = createSecondFactorPage(secondStep);
  const second = createSecondFactorRoutes({ secondStep, finish, secondFactorPage });
  const consent = createConsent({ provider, finish, sessions: deps.sessions });
  const consentPage = createConsentPage({ applications: deps.repos.applications });

  const organizationPage = createOrganizationPromptPage({ provider, twoFactorPolicy: deps.twoFactorPolicy });
  router.get('/', load, createShowInteraction({ secondStep, secondFactorPage, consentPage, organizationPage }));
  router.post('/login', load, requirePrompt('login'), createPasswordStep(deps));
  router.post('/second-factor', load, requirePrompt('login'), requirePendingLogin, second.answer);
  router.post('/second-factor/resend', load, requirePrompt('login'), requirePendingLogin, second.resend);
  router.get('/second-factor/status', createSecondFactorStatus({ provider, secondStep, pending }));
  const verifyFirst = createVerifyFirst({ pending, accounts: deps.repos.accounts, verification: deps.verification });
  router.post('/verify-email', load, requirePrompt('login'), verifyFirst);
  router.post('/confirm', load, requirePrompt('consent'), consent.confirm);
  router.post('/abort', load, consent.abort);
  router.post('/switch-account', load, requirePrompt('consent'), consent.switchAccount);
  return router;
}
