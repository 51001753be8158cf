// The second step of a sign-in, without HTTP. After the password, the login waits in the store
// under the interaction's uid (which only the browser holding that interaction's cookie can use);
// a factor's success spends it once, and the amr list grows by that factor's value.
import type { Store } from '../store/store.ts';
import type { SecondFactorsRepo } from '../db/repositories/second-factors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Lockout } from '../account/lockout.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { SecondFactor, MethodChoice, MethodId, FactorAnswer, ChallengeResult, ChallengeMode, PollStatus } from '../factors/second-factor.ts';
import type { Locale } from '../http/i18n.ts';

export interface PendingLogin { accountId: string; amr: string[] }

export type StepOutcome =
  | { ok: true; accountId: string; amr: string[] }
  | { ok: false; reason: 'invalid_code' | 'rate_limited' | 'session_expired' };

const PENDING_TTL = 15 * 60;
const WINDOW = 15 * 60;

export function createSecondStep(deps: {
  store: Store; repo: SecondFactorsRepo; limiter: RateLimiter; lockout: Lockout; accounts: AccountsRepo; activity: ActivityRepo;
  factors: SecondFactor[]; limits: { perAccount: number; perIp: number };
}) {
  const { store, repo, limiter, lockout, limits } = deps;
  const registry = new Map<MethodId, SecondFactor>(deps.factors.map((f) => [f.id, f]));
  const key = (uid: string) => `login-pending:${uid}`;

  return {
    /** 2FA is on exactly when the account has an enrolled factor. */
    async required(accountId: string): Promise<boolean> {
      return (await repo.count(accountId)) > 0;
    },
    async start(uid: string, login: PendingLogin): Promise<void> {
      await store.set(key(uid), JSON.stringify(login), PENDING_TTL);
    },
    async pending(uid: string): Promise<PendingLogin | undefined> {
      const raw = await store.get(key(uid));
      return raw ? JSON.parse(raw) as PendingLogin : undefined;
    },
    /** Every way this account can answer, the default first. */
    async choices(accountId: string): Promise<MethodChoice[]> {
      const rows = await repo.list(accountId);
      const all = (await Promise.all([...registry.values()].map((f) => f.choices(accountId, rows)))).flat();
      return all.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    },
    /** The choice the URL or form names, if the account has it; otherwise the default. */
    pick(choices: MethodChoice[], method?: string, factorId?: string): MethodChoice | undefined {
      if (!method) return choices[0];
      return choices.find((c) => c.method === method && (c.factorId === undefined || c.factorId === factorId));
    },
    async challenge(uid: string, login: PendingLogin, choice: MethodChoice, ctx: { locale: Locale; ip: string; mode: ChallengeMode; app?: string; userAgent?: string }): Promise<ChallengeResult> {
      const factor = registry.get(choice.method);
      if (!factor?.challenge) return { ok: true, view: {} };
      return factor.challenge({ accountId: login.accountId, key: uid, locale: ctx.locale, ip: ctx.ip, factorId: choice.factorId, app: ctx.app, userAgent: ctx.userAgent }, { mode: ctx.mode });
    },
    /** Where an asynchronous factor (push approval) stands, for the waiting page. */
    async poll(uid: string, login: PendingLogin, method: string): Promise<PollStatus> {
      const factor = registry.get(method as MethodId);
      if (!factor?.poll) return 'expired';
      return factor.poll({ accountId: login.accountId, key: uid, locale: 'en', ip: '' });
    },
    async verify(uid: string, login: PendingLogin, choice: MethodChoice, answer: FactorAnswer, ctx: { locale: Locale } & RequestInfo): Promise<StepOutcome> {
      const factor = registry.get(choice.method);
      if (!factor) return { ok: false, reason: 'invalid_code' };
      const [accountOk, ipOk] = await Promise.all([
        limiter.hit('second-factor-account', login.accountId, limits.perAccount, WINDOW),
        limiter.hit('second-factor-ip', ctx.ip, limits.perIp, WINDOW),
      ]);
      if (!accountOk || !ipOk) return { ok: false, reason: 'rate_limited' };
      const account = await deps.accounts.findById(login.accountId);
      // A separate budget from the password's; reserved before the check, like the password's.
      const attempt = account ? await lockout.reserve('second_factor', account, ctx) : undefined;
      if (!attempt) return { ok: false, reason: 'invalid_code' };
      const ok = await factor.verify({ accountId: login.accountId, key: uid, locale: ctx.locale, ip: ctx.ip, factorId: choice.factorId }, answer);
      if (!ok) await deps.activity.record({ accountId: login.accountId, type: 'second_factor_failed', ip: ctx.ip, device: ctx.device, clientId: ctx.clientId, application: ctx.application, details: { method: choice.method } });
      await attempt.settle(ok);
      if (!ok) return { ok: false, reason: 'invalid_code' };
      // The waiting login is spent once: two parallel successes cannot both finish it.
      const raw = await store.getDel(key(uid));
      if (!raw) return { ok: false, reason: 'session_expired' };
      const spent = JSON.parse(raw) as PendingLogin;
      if (spent.accountId !== login.accountId) return { ok: false, reason: 'session_expired' };
      return { ok: true, accountId: spent.accountId, amr: [...new Set([...spent.amr, ...(factor.amrFor?.(answer) ?? [factor.amr])])] };
    },
  };
}
export type SecondStep = ReturnType<typeof createSecondStep>;
