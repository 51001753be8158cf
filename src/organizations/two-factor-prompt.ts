// GET /interaction/:uid at the prompt "organization" (sign-in-checks.ts): an organization of the
// account requires 2FA and the account has none. The page names the organizations, sends the
// member to set a second factor up (then back here), lets an external user leave instead, or cancel
// (access_denied at the relying party). No consent and no code until it is done: once the account
// has a second factor (or left), the same authorization request goes on — oidc-provider runs its
// checks again and moves to consent.
import type Provider from 'oidc-provider';
import { AppError } from '../errors.ts';
import { renderPage } from '../http/render.ts';
import type { InteractionCtx } from '../interaction/load-interaction.ts';
import type { TwoFactorPolicy } from './two-factor-policy.ts';
import { REASON_2FA_REQUIRED } from './sign-in-checks.ts';
import { REQUIRED_PATH } from './two-factor-gate.ts';
import { canLeaveInsteadOf2fa } from './policy.ts';

export function createOrganizationPromptPage(deps: { provider: Provider; twoFactorPolicy: TwoFactorPolicy }) {
  return async function organizationPage(ctx: InteractionCtx) {
    const { interaction, app } = ctx.state;
    const accountId = interaction.session?.accountId;
    if (!accountId || !interaction.prompt.reasons.includes(REASON_2FA_REQUIRED)) throw new AppError('session_expired');
    if (!(await deps.twoFactorPolicy.pending(accountId))) {
      // Done meanwhile: nothing to add to the result, the checks decide again at resume.
      const to = await deps.provider.interactionResult(ctx.req, ctx.res, {}, { mergeWithLastSubmission: false });
      ctx.status = 303;
      return ctx.redirect(to);
    }
    const back = `/interaction/${interaction.uid}`;
    const organizations = (await deps.twoFactorPolicy.requiring(accountId)).map((o) => ({
      ...o,
      canLeave: canLeaveInsteadOf2fa(o.role),
    }));
    renderPage(ctx, 'org/two-factor-prompt', {
      uid: interaction.uid,
      app,
      organizations,
      back,
      setUp: `${REQUIRED_PATH}?return=${encodeURIComponent(back)}`,
    });
  };
}
export type OrganizationPromptPage = ReturnType<typeof createOrganizationPromptPage>;
