// The prelude of every /interaction/:uid route: this browser's interaction (checked against the
// URL's uid), the application's name, the page in the language the relying party asked for, and —
// for the second step — the login waiting for its second factor, in the account's own language.
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { Ctx, SesameState } from '../http/context.ts';
import { setLocale, setAccountLocale, requestLocale } from '../http/locale.ts';
import { requestInfo, type RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { Account, AccountsRepo } from '../db/repositories/accounts.ts';
import type { PendingLogin, PendingLogins } from '../login/pending-login.ts';
import type { MethodChoice } from '../factors/second-factor.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionState extends SesameState {
  interaction: InteractionDetails;
  /** The application's name, as the pages and the activity log show it. */
  app: string;
  /** The account this interaction is for, once known (a pending login's or the session's). */
  who?: Account;
  /** The login waiting for its second factor, if this interaction has one (set by loadInteraction). */
  login?: PendingLogin;
  /** The account's ways to answer and the one chosen, once the second step has read them. */
  choices?: MethodChoice[];
  choice?: MethodChoice;
}
export type InteractionCtx = Ctx<InteractionState>;

export function createLoadInteraction(deps: { provider: Provider; pending: PendingLogins; accounts: AccountsRepo }) {
  const { provider } = deps;
  return async function loadInteraction(ctx: InteractionCtx, next: Next) {
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) throw new AppError('session_expired');
      throw err;
    }
    // Another interaction's URL with this browser's cookie: nothing to continue here.
    if (details.uid !== ctx.params.uid) throw new AppError('session_expired');
    // The language, decided once for every page of this sign-in: the account's own as soon as it is
    // known (a login waiting for its second factor, or the session asked to consent), else the
    // browser's choice, the RP's ui_locales, Accept-Language.
    const login = details.prompt.name === 'login' ? await deps.pending.get(details.uid) : undefined;
    if (login) ctx.state.login = login;
    const accountId = login?.accountId ?? details.session?.accountId;
    const account = accountId ? await deps.accounts.findById(accountId) : undefined;
    if (account) {
      ctx.state.who = account;
      setAccountLocale(ctx, account);
    } else setLocale(ctx, requestLocale(ctx, details.params.ui_locales));
    const clientId = String(details.params.client_id);
    const client = await provider.Client.find(clientId);
    ctx.state.interaction = details;
    ctx.state.app = client?.clientName ?? clientId;
    await next();
  };
}

/** The route answers only while the interaction is at this prompt. */
export function requirePrompt(name: 'login' | 'consent') {
  return async function promptIs(ctx: InteractionCtx, next: Next) {
    if (ctx.state.interaction.prompt.name !== name) throw new AppError('session_expired');
    await next();
  };
}

/** The second-step forms answer only a login whose password is done (loadInteraction read it). */
export async function requirePendingLogin(ctx: InteractionCtx, next: Next) {
  if (!ctx.state.login) throw new AppError('session_expired');
  await next();
}

/** The login waiting for its second factor, which loadInteraction put on the context. */
export function pendingOf(ctx: InteractionCtx): PendingLogin {
  if (!ctx.state.login) throw new AppError('session_expired');
  return ctx.state.login;
}

/** Who is signing in to what: for the activity log, lockout emails and alerts. */
export function interactionInfo(ctx: InteractionCtx): RequestInfo {
  return requestInfo(ctx, { clientId: String(ctx.state.interaction.params.client_id), application: ctx.state.app });
}
