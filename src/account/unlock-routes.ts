// The self-service unlock: the emailed link (proof of the mailbox) opens a form; with 2FA on, it
// also asks for an authenticator code, a kAuth offline code or a backup code. Only then is the link
// spent (atomically) and the account unlocked.
import Router from '@koa/router';
import { z } from 'zod';
import type { SesameState, Ctx } from '../http/context.ts';
import { renderPage } from '../http/render.ts';
import { form, type FormState } from '../http/form.ts';
import { CREDENTIAL_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import { requestInfo } from '../http/request-info.ts';
import { setAccountLocale } from '../http/locale.ts';
import { AppError } from '../errors.ts';
import type { Config } from '../config.ts';
import type { Lockout } from '../login/lockout.ts';
import type { SecondStep } from '../login/second-step.ts';
import type { SecondFactor } from '../factors/second-factor.ts';

const UnlockForm = z.object({ token: z.string().max(200).default(''), code: z.string().max(64).default('') });

export interface UnlockDeps {
  config: Config;
  lockout: Lockout;
  limiter: RateLimiter;
  secondStep: SecondStep;
  /** The codes that prove the second factor without a device at hand. */
  factors: { totp: SecondFactor; push: SecondFactor; backupCodes: SecondFactor };
}

export function createUnlockRouter(deps: UnlockDeps) {
  const { lockout, limiter } = deps;
  const perIp = deps.config.rateLimits.loginPerIp;
  const router = new Router<SesameState>();

  /** An authenticator / kAuth offline code or a backup code of this account (spent if right). */
  async function codeIsRight(accountId: string, code: string, ip: string): Promise<boolean> {
    if (!code) return false;
    const ceremony = { accountId, key: 'unlock', locale: 'en' as const, ip };
    const { totp, push, backupCodes } = deps.factors;
    for (const f of [totp, push, backupCodes]) if (await f.verify(ceremony, { code })) return true;
    return false;
  }

  const unlockPage = (ctx: Ctx, f: FormState, status: number) =>
    renderPage(ctx, 'unlock', { token: f.values.token ?? '', needsCode: true, error: f.error }, status);

  async function unlock(ctx: Ctx, input: z.output<typeof UnlockForm>) {
    if (!(await limiter.hit('unlock-ip', ctx.ip, perIp, CREDENTIAL_WINDOW_SECONDS))) throw new AppError('rate_limited');
    const account = await lockout.linkAccount(input.token);
    if (!account) throw new AppError('link_invalid');
    setAccountLocale(ctx, account);
    if (await deps.secondStep.required(account.id)) {
      // The code is a credential check: limited per account as well as per IP.
      if (!(await limiter.hit('unlock-account', account.id, perIp, CREDENTIAL_WINDOW_SECONDS)))
        throw new AppError('rate_limited');
      if (!(await codeIsRight(account.id, input.code.trim(), ctx.ip))) throw new AppError('invalid_code');
    }
    if (!(await lockout.unlockWithLink(input.token, requestInfo(ctx)))) throw new AppError('link_invalid');
    renderPage(ctx, 'unlocked', {});
  }

  router.get('/unlock', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const account = await lockout.linkAccount(token);
    if (!account) throw new AppError('link_invalid');
    setAccountLocale(ctx, account);
    renderPage(ctx, 'unlock', { token, needsCode: await deps.secondStep.required(account.id) });
  });
  router.post('/unlock', form(UnlockForm, unlock, unlockPage, { limit: '8kb' }));
  return router;
}
