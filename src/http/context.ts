import type { ParameterizedContext, DefaultState } from 'koa';
import type { Locale, Translate } from './i18n.ts';
import type { AppError } from '../errors.ts';
import type { Account } from '../db/repositories/accounts.ts';
import type { OrganizationsView } from './account-menu.ts';

export interface SesameState extends DefaultState {
  locale: Locale;
  t: Translate;
  /** The language is the account's own setting (no language switcher on such a page). */
  accountLocale?: boolean;
  /** The form token expected back from this browser (http/csrf.ts). */
  csrfToken: string;
  /** Set by form(): shows the form again with the user's input and the error (http/form.ts). */
  rerender?: (err: AppError) => unknown;
  /** Set by routers that only speak JSON (the device API, the REST API): errors are JSON there. */
  api?: boolean;
  /** Who calls the REST API (a personal token's name, an application's): the activity log's device
   *  for what the call does (api/router.ts). */
  apiCaller?: string;
  /** The size of the body read at the edge (http/input-guard.ts), for forms that take less. */
  bodyBytes?: number;
  /** A form body the edge refused (a NUL, not UTF-8): form() shows it again with the message. */
  refusedForm?: { field: string; values: Record<string, unknown> };
  /** PostgreSQL or Redis failed while oidc-provider served the request (oidc/provider-events.ts). */
  dependencyDown?: unknown;
  /** This request's id (its X-Request-Id header, and every log line it writes: http/request-id.ts). */
  requestId?: string;
}

/** The state of every page behind requireAccount: the signed-in account, typed. */
export interface AccountState extends SesameState {
  account: Account;
  /** The account's organizations and the current one (every account page; the switcher). */
  organizations?: OrganizationsView;
}

export type Ctx<S extends SesameState = SesameState> = ParameterizedContext<S>;
export type AccountCtx = Ctx<AccountState>;
