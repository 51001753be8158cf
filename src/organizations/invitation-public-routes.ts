// The invitation link, /invitation/<token>: what it invites to, and the ways in — accept (signed in
// with the invited address), sign in first (through the one login flow, and back here), or create an
// account from the link (its address fixed and verified: the link proves the mailbox). Every link
// that cannot be used, for whatever reason, is the same link_invalid page. GET never spends it
// (mail scanners open links).
import Router from '@koa/router';
import { z } from 'zod';
import type { Ctx, SesameState, AccountCtx } from '../http/context.ts';
import { renderPage, seeOther } from '../http/render.ts';
import { form, formData, nameField, newPasswordField, NoFields, type FormState } from '../http/form.ts';
import { requestInfo } from '../http/request-info.ts';
import type { AccountSession } from '../http/require-account.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { PasswordFactor } from '../factors/password.ts';
import { assertPasswordAllowed } from '../factors/password.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { setAccountLocale } from '../http/locale.ts';
import type { TwoFactorPolicy } from './two-factor-policy.ts';
import type { Invitations } from './invitations.ts';
import type { OpenInvitation } from '../db/repositories/invitations.ts';

/** No email field: the address is the invitation's, never the form's. */
const SignupForm = z.object({ given_name: nameField, family_name: nameField, password: newPasswordField });

export function createInvitationPublicRouter(deps: {
  config: Config;
  accountSession: AccountSession;
  repos: { accounts: AccountsRepo };
  password: PasswordFactor;
  limiter: RateLimiter;
  invitations: Invitations;
  twoFactorPolicy: TwoFactorPolicy;
}) {
  const { invitations, accountSession } = deps;
  const router = new Router<SesameState>({ prefix: '/invitation' });
  const tokenOf = (ctx: Ctx) => String(ctx.params.token ?? '');
  const linkOf = (ctx: Ctx) => `/invitation/${encodeURIComponent(tokenOf(ctx))}`;
  const about = (inv: OpenInvitation) => ({
    organizationName: inv.organizationName,
    role: inv.role,
    inviter: inv.inviterName ? `${inv.inviterName} (${inv.inviterEmail})` : undefined,
    email: inv.email,
  });

  router.get('/:token', async (ctx) => {
    const invitation = await invitations.open(tokenOf(ctx));
    const account = await accountSession.currentAccount(ctx);
    // Signed in: the page in the account's language, as its other pages.
    if (account) setAccountLocale(ctx, account);
    const state = !account ? 'signed_out' : invitations.isFor(invitation, account) ? 'invited' : 'other_email';
    renderPage(ctx, 'org/invitation', { ...about(invitation), state, link: linkOf(ctx) });
  });

  // Through the account sign-in (http/require-account.ts sends the browser to /authorize and back
  // here: /invitation/<token> is an allowed return path), then to the invitation's page.
  router.get('/:token/sign-in', accountSession.requireAccount, (ctx: AccountCtx) => seeOther(ctx, linkOf(ctx)));

  async function accept(ctx: Ctx) {
    const account = await accountSession.currentAccount(ctx);
    if (!account) return seeOther(ctx, `${linkOf(ctx)}/sign-in`);
    // A member an organization requires 2FA of does nothing else first, joining another one included.
    if (await deps.twoFactorPolicy.pending(account.id)) return seeOther(ctx, '/account/security/required');
    await invitations.accept(tokenOf(ctx), account, requestInfo(ctx));
    seeOther(ctx, '/account');
  }
  router.post('/:token/accept', form(NoFields, accept, undefined, { limit: '8kb' }));

  async function signupPage(ctx: Ctx, f?: FormState, status = 200) {
    // Shown again after a refused form, the link may have been spent meanwhile: the same page as any
    // unusable link, rendered here (an error thrown while showing an error would be a 500).
    const invitation = await invitations.open(tokenOf(ctx)).catch(() => undefined);
    if (!invitation) return renderPage(ctx, 'link-invalid', {}, 400);
    const taken = f?.error === 'email_taken' || Boolean(await deps.repos.accounts.findByEmail(invitation.email));
    renderPage(
      ctx,
      'org/invitation-signup',
      { ...about(invitation), taken, link: linkOf(ctx), ...formData(f) },
      status,
    );
  }

  async function signup(ctx: Ctx, input: z.output<typeof SignupForm>) {
    const invitation = await invitations.open(tokenOf(ctx));
    const { given_name, family_name } = input;
    // The checks of the normal sign-up (account/signup-routes.ts): the password policy, the limit per IP.
    assertPasswordAllowed(input.password, { email: invitation.email, givenName: given_name, familyName: family_name });
    const { signupPerIp } = deps.config.rateLimits;
    if (!(await deps.limiter.hit('signup-ip', ctx.ip, signupPerIp, MESSAGE_WINDOW_SECONDS)))
      throw new AppError('rate_limited');
    const passwordHash = await deps.password.hash(input.password);
    const made = await invitations.signUp(
      tokenOf(ctx),
      {
        passwordHash,
        name: `${given_name} ${family_name}`,
        givenName: given_name,
        familyName: family_name,
        locale: ctx.state.locale,
      },
      requestInfo(ctx),
    );
    // The holder of the link owns the mailbox: telling them the address has an account reveals nothing.
    if (made === 'email_taken') throw new AppError('email_taken');
    // Signed up and a member: the page says so, and signing in is the next step (the account pages
    // start it) — straight to a sign-in form, a new user wondered whether the account was made.
    renderPage(ctx, 'org/invitation-joined', about(invitation));
  }
  router.get('/:token/signup', (ctx) => signupPage(ctx));
  router.post('/:token/signup', form(SignupForm, signup, signupPage, { limit: '8kb' }));
  return router;
}
