// GET /interaction/:uid — the page the interaction is at: sign in, the second factor of a login
// whose password is done, an organization's requirement (organizations/two-factor-prompt.ts), or
// consent.
import { AppError } from '../errors.ts';
import type { SecondStep } from '../login/second-step.ts';
import type { InteractionCtx } from './load-interaction.ts';
import { loginPage, type ConsentPage, type SecondFactorPage } from './pages.ts';
import { ORGANIZATION_PROMPT } from '../organizations/sign-in-checks.ts';

export function createShowInteraction(deps: {
  secondStep: SecondStep;
  secondFactorPage: SecondFactorPage;
  consentPage: ConsentPage;
  organizationPage: (ctx: InteractionCtx) => Promise<void>;
}) {
  const { secondStep } = deps;
  return async function showInteraction(ctx: InteractionCtx) {
    const { interaction } = ctx.state;
    if (interaction.prompt.name === 'consent') return deps.consentPage(ctx);
    if (interaction.prompt.name === ORGANIZATION_PROMPT) return deps.organizationPage(ctx);
    if (interaction.prompt.name !== 'login') throw new AppError('session_expired');
    const { login } = ctx.state;
    if (!login) return loginPage(ctx);
    const choices = await secondStep.choices(login.accountId);
    const method = typeof ctx.query.method === 'string' ? ctx.query.method : undefined;
    const factor = typeof ctx.query.factor === 'string' ? ctx.query.factor : undefined;
    ctx.state.choices = choices;
    // A method the account does not have falls back to the default one.
    ctx.state.choice = secondStep.pick(choices, method, factor);
    await deps.secondFactorPage(ctx);
  };
}
