// POST /interaction/:uid/verify-email — "Send the link again" on the "confirm your email first"
// page, which login/finish.ts shows instead of finishing the sign-in of an account whose email is
// not confirmed. Only a browser that gave this interaction the right password can ask (the store
// keeps which account that was); the link brings the user back to this sign-in.
import { form, NoFields } from '../http/form.ts';
import { renderPage } from '../http/render.ts';
import { AppError } from '../errors.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { PendingLogins } from '../login/pending-login.ts';
import type { EmailVerification } from '../account/email-verification.ts';
import type { InteractionCtx } from './load-interaction.ts';

export function createVerifyFirst(deps: {
  pending: PendingLogins;
  accounts: AccountsRepo;
  verification: EmailVerification;
}) {
  async function resend(ctx: InteractionCtx) {
    const { uid } = ctx.state.interaction;
    const accountId = await deps.pending.awaitingEmail(uid);
    const account = accountId && (await deps.accounts.findById(accountId));
    if (!account) throw new AppError('session_expired');
    if (!account.emailVerified) await deps.verification.send(account, `/interaction/${uid}`);
    renderPage(ctx, 'verify-first', { uid, sent: true }, 403);
  }
  return form(NoFields, resend);
}
