// The self-service unlock: the emailed link (proof of the mailbox) opens a form; with 2FA on, it
// also asks for an authenticator code, a kAuth offline code or a backup code. Only then is the link
// spent (atomically) and the account unlocked.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { SesameState } from '../http/context.ts';
import type { Csrf } from '../http/csrf.ts';
import { renderPage } from '../http/render.ts';
import { formValues } from '../http/forms.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { requestInfo } from '../http/request-info.ts';
import { setLocale } from '../http/locale.ts';
import { isLocale } from '../http/i18n.ts';
import type { Lockout } from './lockout.ts';

const WINDOW = 15 * 60;

export function createUnlockRouter(deps: {
  csrf: Csrf; lockout: Lockout; limiter: RateLimiter; perIp: number;
  secondFactorRequired(accountId: string): Promise<boolean>;
  /** An authenticator / kAuth offline code or a backup code of this account (spent if right). */
  checkCode(accountId: string, code: string, ip: string): Promise<boolean>;
}) {
  const { csrf, lockout } = deps;
  const router = new Router<SesameState>();
  router.use('/unlock', bodyParser({ enableTypes: ['form'], formLimit: '8kb' }));

  router.get('/unlock', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const account = await lockout.linkAccount(token);
    if (!account) return renderPage(ctx, 'link-invalid', {}, 400);
    if (isLocale(account.locale)) setLocale(ctx, account.locale);
    renderPage(ctx, 'unlock', { token, needsCode: await deps.secondFactorRequired(account.id) });
  });

  router.post('/unlock', async (ctx) => {
    const v = formValues(ctx.request.body);
    csrf.verify(ctx, v._csrf);
    const token = v.token ?? '';
    if (!(await deps.limiter.hit('unlock-ip', ctx.ip, deps.perIp, WINDOW))) return renderPage(ctx, 'unlock', { token, needsCode: true, error: 'rate_limited' }, 429);
    const account = await lockout.linkAccount(token);
    if (!account) return renderPage(ctx, 'link-invalid', {}, 400);
    if (isLocale(account.locale)) setLocale(ctx, account.locale);
    const needsCode = await deps.secondFactorRequired(account.id);
    // The code is a credential check: limited per account as well as per IP.
    if (needsCode && !(await deps.limiter.hit('unlock-account', account.id, deps.perIp, WINDOW))) return renderPage(ctx, 'unlock', { token, needsCode, error: 'rate_limited' }, 429);
    if (needsCode && !(await deps.checkCode(account.id, (v.code ?? '').trim(), ctx.ip))) {
      return renderPage(ctx, 'unlock', { token, needsCode, error: 'invalid_code' }, 401);
    }
    if (!(await lockout.unlockWithLink(token, requestInfo(ctx)))) return renderPage(ctx, 'link-invalid', {}, 400);
    renderPage(ctx, 'unlocked', {});
  });
  return router;
}
