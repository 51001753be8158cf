// The second step of a sign-in, without HTTP: the account's ways to answer, the challenge of the
// chosen one, and the check of the answer — rate-limited, counted by the lockout, and spending the
// pending login once. The amr list grows by the factor's value. Factors are known only through
// their common interface (factors/second-factor.ts).
import type { SecondFactorsRepo } from '../db/repositories/second-factors.ts';
import { CREDENTIAL_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Locale } from '../http/i18n.ts';
import type {
  SecondFactor,
  MethodChoice,
  MethodId,
  FactorAnswer,
  ChallengeResult,
  ChallengeMode,
  PollStatus,
} from '../factors/second-factor.ts';
import { METHOD_ORDER } from '../factors/second-factor.ts';
import { AppError } from '../errors.ts';
import type { Lockout } from './lockout.ts';
import type { PendingLogin, PendingLogins } from './pending-login.ts';

export interface ChallengeContext {
  locale: Locale;
  ip: string;
  mode: ChallengeMode;
  app?: string;
  userAgent?: string;
}

export function createSecondStep(deps: {
  repo: SecondFactorsRepo;
  limiter: RateLimiter;
  lockout: Lockout;
  accounts: AccountsRepo;
  activity: ActivityRepo;
  pending: PendingLogins;
  factors: SecondFactor[];
  config: { rateLimits: { secondFactorPerAccount: number; loginPerIp: number } };
}) {
  const { repo, limiter, lockout } = deps;
  // Per account its own budget; per IP the same budget as passwords (one attacker, one address).
  const limits = {
    perAccount: deps.config.rateLimits.secondFactorPerAccount,
    perIp: deps.config.rateLimits.loginPerIp,
  };
  const registry = new Map<MethodId, SecondFactor>(deps.factors.map((f) => [f.id, f]));

  return {
    /** 2FA is on exactly when the account has an enrolled factor. */
    async required(accountId: string): Promise<boolean> {
      return (await repo.count(accountId)) > 0;
    },
    /** Every way this account can answer: the default first, then in METHOD_ORDER. */
    async choices(accountId: string): Promise<MethodChoice[]> {
      const rows = await repo.list(accountId);
      const all = (await Promise.all([...registry.values()].map((f) => f.choices(accountId, rows)))).flat();
      const rank = (c: MethodChoice) => METHOD_ORDER.indexOf(c.method);
      return all.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || rank(a) - rank(b));
    },
    /** The choice the URL or form names, if the account has it; otherwise the default. */
    pick(choices: MethodChoice[], method?: string, factorId?: string): MethodChoice | undefined {
      if (!method) return choices[0];
      return choices.find((c) => c.method === method && (c.factorId === undefined || c.factorId === factorId));
    },
    async challenge(
      uid: string,
      login: PendingLogin,
      choice: MethodChoice,
      ctx: ChallengeContext,
    ): Promise<ChallengeResult> {
      const factor = registry.get(choice.method);
      if (!factor?.challenge) return { ok: true, view: {} };
      const ceremony = { ...ctx, accountId: login.accountId, key: uid, factorId: choice.factorId };
      return factor.challenge(ceremony, { mode: ctx.mode });
    },
    /** Where an asynchronous factor (push approval) stands, for the waiting page. */
    async poll(uid: string, login: PendingLogin, method: string): Promise<PollStatus> {
      const factor = registry.get(method as MethodId);
      if (!factor?.poll) return 'expired';
      return factor.poll({ accountId: login.accountId, key: uid, locale: 'en', ip: '' });
    },
    /** The completed login (amr with the factor's values), or an AppError: invalid_code,
     *  rate_limited, or session_expired when the pending login was already spent. */
    async verify(
      uid: string,
      login: PendingLogin,
      given: { choice: MethodChoice; answer: FactorAnswer },
      ctx: { locale: Locale } & RequestInfo,
    ): Promise<PendingLogin> {
      const { choice, answer } = given;
      const factor = registry.get(choice.method);
      if (!factor) throw new AppError('invalid_code');
      const [accountOk, ipOk] = await Promise.all([
        limiter.hit('second-factor-account', login.accountId, limits.perAccount, CREDENTIAL_WINDOW_SECONDS),
        limiter.hit('second-factor-ip', ctx.ip, limits.perIp, CREDENTIAL_WINDOW_SECONDS),
      ]);
      if (!accountOk || !ipOk) throw new AppError('rate_limited');
      const account = await deps.accounts.findById(login.accountId);
      // A separate budget from the password's; reserved before the check, like the password's.
      const device = account && (await lockout.trustedDevice(account.id, ctx));
      const attempt = account ? await lockout.reserve('second_factor', account, ctx, device) : undefined;
      if (!attempt) throw new AppError('invalid_code');
      const ceremony = {
        accountId: login.accountId,
        key: uid,
        locale: ctx.locale,
        ip: ctx.ip,
        factorId: choice.factorId,
      };
      const ok = await factor.verify(ceremony, answer);
      if (!ok) {
        const { ip, device, clientId, application } = ctx;
        const failed = { ip, device, clientId, application, accountId: login.accountId, type: 'second_factor_failed' };
        await deps.activity.record({ ...failed, details: { method: choice.method } });
      }
      await attempt.settle(ok);
      if (!ok) throw new AppError('invalid_code');
      // The waiting login is spent once: two parallel successes cannot both finish it.
      const spent = await deps.pending.spend(uid);
      if (!spent || spent.accountId !== login.accountId) throw new AppError('session_expired');
      return {
        ...spent,
        amr: [...new Set([...spent.amr, ...(factor.amrFor?.(answer) ?? [factor.amr])])],
      };
    },
  };
}
export type SecondStep = ReturnType<typeof createSecondStep>;
