// POST /interaction/:uid/second-factor — the answer to the second factor: a code (field `code`) or
// a WebAuthn assertion (`credential`); and POST …/second-factor/resend — "Send a new code" (SMS),
// "Send a new request" (push). Both name a method the account really has.
import { z } from 'zod';
import { form } from '../http/form.ts';
import { AppError } from '../errors.ts';
import { METHOD_IDS } from '../factors/second-factor.ts';
import type { SecondStep } from '../login/second-step.ts';
import type { Finisher } from '../login/finish.ts';
import { interactionInfo, pendingOf, type InteractionCtx } from './load-interaction.ts';
import type { SecondFactorPage } from './pages.ts';
import type { FormState } from '../http/form.ts';

const SecondFactorForm = z.object({
  method: z.enum(METHOD_IDS),
  factor: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
  credential: z.string().max(65_536).optional(),
});
type Answer = z.output<typeof SecondFactorForm>;

/** The wrong or unknown answer is a refused code; a form that names nothing valid is bad input. */
const invalid = () => new AppError('invalid_code', { status: 400 });

export function createSecondFactorRoutes(deps: {
  secondStep: SecondStep;
  finish: Finisher;
  secondFactorPage: SecondFactorPage;
}) {
  const { secondStep, secondFactorPage } = deps;
  const view = (ctx: InteractionCtx, f: FormState, status: number) => secondFactorPage(ctx, { error: f.error }, status);

  /** The method the form names, which the account must have. */
  async function choose(ctx: InteractionCtx, input: Answer) {
    const login = pendingOf(ctx);
    ctx.state.choices = await secondStep.choices(login.accountId);
    const choice = secondStep.pick(ctx.state.choices, input.method, input.factor);
    if (!choice) throw invalid();
    ctx.state.choice = choice;
    return { login, choice };
  }

  async function answer(ctx: InteractionCtx, input: Answer) {
    const { login, choice } = await choose(ctx, input);
    const info = interactionInfo(ctx);
    const given = { code: input.code, credential: input.credential };
    const done = await secondStep.verify(
      ctx.state.interaction.uid,
      login,
      { choice, answer: given },
      { locale: ctx.state.locale, ...info },
    );
    // The amr now holds a second factor: this finishes (the one check lives in login/finish.ts).
    await deps.finish.login(ctx, ctx.state.interaction, done, info);
  }

  async function resend(ctx: InteractionCtx, input: Answer) {
    await choose(ctx, input);
    await secondFactorPage(ctx, { mode: 'resend' });
  }

  return {
    answer: form(SecondFactorForm, answer, view, { invalid, limit: '128kb' }),
    resend: form(SecondFactorForm, resend, view, { invalid }),
  };
}
