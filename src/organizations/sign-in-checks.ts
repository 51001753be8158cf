// What organizations check at every authorization, once the account is known (after the login
// prompt, before consent; oidc/acr.ts places the prompt): oidc-provider runs these checks for a
// browser already signed in as well as after a fresh sign-in.
//  - access: a blocked member, or an outsider to a members-only application, gets access_denied
//    back at the relying party (thrown: no interaction, no page of ours in between);
//  - 2FA: an organization requiring it sends a member without a second factor to set one up first
//    (the interaction shows the prompt "organization"; interaction/show.ts).
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccessCheck } from './access-check.ts';
import type { TwoFactorPolicy } from './two-factor-policy.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';

export const ORGANIZATION_PROMPT = 'organization';
export const REASON_2FA_REQUIRED = 'org_2fa_required';

export function createOrganizationPrompt(deps: { accessCheck: AccessCheck; twoFactorPolicy: TwoFactorPolicy }) {
  const { Prompt, Check } = interactionPolicy;
  const accountOf = (ctx: KoaContextWithOIDC) => ctx.oidc.session?.accountId;
  return new Prompt(
    { name: ORGANIZATION_PROMPT, requestable: false },
    new Check('org_access', 'the account may not use this application', async (ctx: KoaContextWithOIDC) => {
      const accountId = accountOf(ctx);
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId || clientId === ACCOUNT_CLIENT_ID) return Check.NO_NEED_TO_PROMPT;
      const refusal = await deps.accessCheck.refusal(accountId, clientId);
      if (refusal)
        throw new errors.AccessDenied(
          refusal === 'blocked'
            ? 'your access to the applications of this organization is blocked'
            : 'this application is only for the members of its organization',
        );
      return Check.NO_NEED_TO_PROMPT;
    }),
    new Check(
      REASON_2FA_REQUIRED,
      'an organization of the account requires two-step verification',
      async (ctx: KoaContextWithOIDC) => {
        const accountId = accountOf(ctx);
        // The account pages' own sign-in finishes: their pages send the member to set 2FA up.
        if (!accountId || ctx.oidc.client?.clientId === ACCOUNT_CLIENT_ID) return Check.NO_NEED_TO_PROMPT;
        return (await deps.twoFactorPolicy.pending(accountId)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
}
