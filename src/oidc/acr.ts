// Authentication Context Class References. Level 1: password only; level 2: multi-factor. A relying
// party that asks for level 2 gets it or an error (unmet_authentication_requirements), never less.
import { isUnconfirmed } from './account.ts';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { required } from '../lib/required.ts';

/** acr values (OpenID Connect Core §2): level 1 = password only, level 2 = multi-factor. */
export const ACR_PASSWORD = 'urn:sesame:loa:1';
export const ACR_MFA = 'urn:sesame:loa:2';

/** True when the request accepts nothing less than multi-factor: acr_values naming only level 2
 *  (the RP lists what it accepts), or an essential acr claim whose values are all level 2. */
export function mfaRequested(params: Record<string, unknown>): boolean {
  const acrValues = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  if (acrValues.length && acrValues.every((v) => v === ACR_MFA)) return true;
  if (typeof params.claims !== 'string') return false;
  try {
    const acr = (
      JSON.parse(params.claims) as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } }
    )?.id_token?.acr;
    if (!acr?.essential) return false;
    const values = acr.values ?? (acr.value ? [acr.value] : []);
    return values.length > 0 && values.every((v) => v === ACR_MFA);
  } catch {
    return false;
  }
}

/** The login prompt with one more check: an existing password-only session does not satisfy a
 *  request for multi-factor; the user signs in again (and the second step runs). */
export function sesamePolicy(extraPrompts: ReadonlyArray<InstanceType<typeof interactionPolicy.Prompt>> = []) {
  const { base, Check } = interactionPolicy;
  const policy = base();
  // Other features' prompts (organizations/sign-in-checks.ts) come after the login and before
  // consent: nobody is asked to consent to an application they may not use.
  for (const prompt of extraPrompts) policy.add(prompt, policy.length - 1);
  required(policy.get('login'), 'login prompt').checks.add(
    new Check('acr_mfa', 'multi-factor authentication is required', 'login_required', (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, unknown>;
      if (!mfaRequested(params)) return Check.NO_NEED_TO_PROMPT;
      return ctx.oidc.acr === ACR_MFA ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  // A session whose account is not (any more) confirmed signs in again (oidc/account.ts).
  required(policy.get('login'), 'login prompt').checks.add(
    new Check(
      'unconfirmed_account',
      'the account must confirm its email address',
      'login_required',
      (ctx: KoaContextWithOIDC) => (isUnconfirmed(ctx.oidc.account) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
    ),
  );
  return policy;
}
