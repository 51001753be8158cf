// POST /interaction/:uid/login — the password step. A refusal re-renders the sign-in form with the
// email kept and a message that never says which part was wrong.
import { z } from 'zod';
import { form, emailField, passwordField } from '../http/form.ts';
import type { CheckPassword } from '../login/check-password.ts';
import type { Finisher } from '../login/finish.ts';
import { interactionInfo, type InteractionCtx } from './load-interaction.ts';
import { loginPage } from './pages.ts';

const LoginForm = z.object({ email: emailField, password: passwordField });

export function createPasswordStep(deps: { checkPassword: CheckPassword; finish: Finisher }) {
  async function passwordStep(ctx: InteractionCtx, input: z.output<typeof LoginForm>) {
    const info = interactionInfo(ctx);
    const check = { email: input.email, password: input.password, refusal: 'invalid_credentials' } as const;
    const account = await deps.checkPassword(check, info);
    const login = { accountId: account.id, amr: ['pwd'], emailVerified: account.emailVerified };
    await deps.finish.login(ctx, ctx.state.interaction, login, info);
  }
  // An empty or malformed field is named next to it (that says nothing about any account); only a
  // well-formed email and password get the vague refusal.
  return form(LoginForm, passwordStep, loginPage);
}
