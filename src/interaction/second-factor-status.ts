// GET /interaction/:uid/second-factor/status — where a push approval stands, for the waiting page's
// script. Polled every second: it reads only the store (the challenge is bound to this interaction)
// and answers "expired" for anything it cannot continue, never an error page.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import type { SecondStep } from '../login/second-step.ts';
import type { PendingLogins } from '../login/pending-login.ts';

export function createSecondFactorStatus(deps: { provider: Provider; secondStep: SecondStep; pending: PendingLogins }) {
  return async function secondFactorStatus(ctx: Ctx) {
    ctx.set('Cache-Control', 'no-store');
    const details = await deps.provider.interactionDetails(ctx.req, ctx.res).catch(() => undefined);
    const ours = details && details.uid === ctx.params.uid && details.prompt.name === 'login';
    const login = ours ? await deps.pending.get(details.uid) : undefined;
    if (!details || !login) {
      ctx.body = { status: 'expired' };
      return;
    }
    ctx.body = { status: await deps.secondStep.poll(details.uid, login, String(ctx.query.method ?? '')) };
  };
}
