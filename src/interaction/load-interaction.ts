// The prelude of every /interaction/:uid route: this browser's interaction (checked against the
// URL's uid), the application's name, the page in the language the relying party asked for, and —
// for the second step — the login waiting for its second factor, in the account's own language.
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { Ctx, SesameState } from '../http/context.ts';
import { setLocale } from '../http/locale.ts';
import { resolveLocale, localeOf } from '../http/i18n.ts';
import { requestInfo, type RequestInfo } from '../http/request-info.ts';
import { AppError } from '../errors.ts';
import type { AccountsRepo } from '../db/repositories/accounts.ts';
import type { PendingLogin, PendingLogins } from '../login/pending-login.ts';
import type { MethodChoice } from '../factors/second-factor.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionState extends SesameState {
  interaction: InteractionDetails;
  /** The application's name, as the pages and the activity log show it. */
  app: string;
  /** Set by requirePendingLogin. */
  login?: PendingLogin;
  /** The account's ways to answer and the one chosen, once the second step has read them. */
  choices?: MethodChoice[];
  choice?: MethodChoice;
}
export type InteractionCtx = Ctx<InteractionState>;

export function createLoadInteraction(provider: Provider) {
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
    const ui = typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined;
    setLocale(ctx, resolveLocale({ uiLocales: ui, acceptLanguage: ctx.get('Accept-Language') }));
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

/** The login waiting for its second factor, put on the context with the page in the account's own
 *  language: `attach` for the page (no pending login: the password step), `require` for the
 *  second-step forms (no pending login: nothing to continue). */
export function createPendingLoginOf(deps: { pending: PendingLogins; accounts: AccountsRepo }) {
  async function attach(ctx: InteractionCtx): Promise<PendingLogin | undefined> {
    const login = await deps.pending.get(ctx.state.interaction.uid);
    if (!login) return undefined;
    ctx.state.login = login;
    setLocale(ctx, localeOf(await deps.accounts.findById(login.accountId)));
    return login;
  }
  return {
    attach,
    async require(ctx: InteractionCtx, next: Next) {
      if (!(await attach(ctx))) throw new AppError('session_expired');
      await next();
    },
  };
}
export type PendingLoginOf = ReturnType<typeof createPendingLoginOf>;

/** The pending login createPendingLoginOf put on the context. */
export function pendingOf(ctx: InteractionCtx): PendingLogin {
  if (!ctx.state.login) throw new AppError('session_expired');
  return ctx.state.login;
}

/** Who is signing in to what: for the activity log, lockout emails and alerts. */
export function interactionInfo(ctx: InteractionCtx): RequestInfo {
  return requestInfo(ctx, { clientId: String(ctx.state.interaction.params.client_id), application: ctx.state.app });
}
