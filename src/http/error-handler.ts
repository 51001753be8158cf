// The one renderer of errors. An AppError becomes, in this order: JSON `{error, message}` for API
// routes and clients that ask for JSON; the page its code has (an expired sign-in, a spent link);
// the form the user was filling in again, with their input (form() registered it); or the error
// page. Anything else is a bug: logged, and shown as `internal` — never a stack trace.
import type { Next } from 'koa';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Ctx } from './context.ts';
import { renderPage } from './render.ts';
import { isDataException } from '../db/errors.ts';
import { setAccountLocale } from './locale.ts';
import { refererPath } from './referer-path.ts';
import type { Logger } from '../lib/logger.ts';
import { dependencyOf, isDependencyDown, RETRY_AFTER_SECONDS } from '../lib/dependency.ts';

/** Told of each request that met a dependency outage (logged once per outage). */
export type OnDependencyDown = (which: 'database' | 'store', err: unknown) => void;

/** Codes that have a page of their own, whatever the user was doing. */
const PAGE_FOR: Partial<Record<ErrorCode, string>> = {
  session_expired: 'expired',
  link_invalid: 'link-invalid',
};

const STATUS_CODE: Partial<Record<number, ErrorCode>> = {
  404: 'not_found',
  405: 'method_not_allowed',
  501: 'method_not_allowed',
};

/** The page a form's address belongs to (the address without its last part:
 *  /account/security/totp → /account/security), for a GET on a form's address. */
function parentPage(ctx: Ctx): string | undefined {
  const parent = ctx.path.replace(/\/[^/]*$/, '');
  return parent.startsWith('/account') || parent.startsWith('/interaction/') ? parent : undefined;
}

/** API routes, clients that ask for JSON, and clients that send it (the edge may refuse their body
 *  before the API's router has marked the request). */
function wantsJson(ctx: Ctx): boolean {
  return ctx.state.api === true || ctx.accepts('html', 'json') === 'json' || ctx.is('json') === 'json';
}

/** Koa and body-parser client errors (malformed body, too large, …) are bad input. */
function isClientError(err: unknown): boolean {
  return (
    !!err &&
    typeof err === 'object' &&
    'status' in err &&
    typeof err.status === 'number' &&
    err.status >= 400 &&
    err.status < 500
  );
}

async function renderError(ctx: Ctx, err: AppError): Promise<void> {
  if (wantsJson(ctx)) {
    ctx.status = err.status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.code, message: ctx.state.t(`errors.${err.code}`) };
    return;
  }
  const page = PAGE_FOR[err.code];
  if (page) return renderPage(ctx, page, {}, err.status);
  if (ctx.state.rerender) {
    await ctx.state.rerender(err);
    return;
  }
  renderPage(ctx, 'error', errorPage(ctx, err.code), err.status);
}

/** The error page's data: a way home from every error; for an expired form, the page it was on; for
 *  a GET on a form's address, the page the form belongs to. */
function errorPage(ctx: Ctx, code: ErrorCode) {
  return {
    code,
    reload: code === 'csrf_failed' ? refererPath(ctx) : undefined,
    back: code === 'method_not_allowed' ? parentPage(ctx) : undefined,
  };
}

/** Protocol errors oidc-provider renders through us (unknown client, bad redirect_uri, …): the
 *  error page with the protocol's code and oidc-provider's description, written for developers. */
export function renderProtocolError(ctx: Ctx, code: string, description: string | undefined, status: number) {
  renderPage(ctx, 'error', { code, description, protocol: true }, status >= 400 ? status : 400);
}

/** The signed-in account of a request that failed before its route knew it (an unknown address or
 *  method under /account): its error page is in the account's language like its other pages. */
export type AccountOf = (ctx: Ctx) => Promise<{ locale?: string | null } | undefined>;

async function accountLanguage(ctx: Ctx, accountOf: AccountOf | undefined) {
  if (ctx.state.accountLocale || !accountOf || wantsJson(ctx)) return;
  const account = await accountOf(ctx).catch(() => undefined);
  if (account) setAccountLocale(ctx, account);
}

/** What any failure is to the client: an AppError as it is; bad input (Koa's client errors, a value
 *  the database refused) as `invalid_input`; an outage as `unavailable` (with Retry-After); anything
 *  else, a bug, logged and shown as `internal`. */
export function toAppError(ctx: Ctx, err: unknown, logger: Logger, onDown?: OnDependencyDown): AppError {
  if (err instanceof AppError) return err;
  if (isClientError(err)) return new AppError('invalid_input');
  if (isDependencyDown(err)) {
    // PostgreSQL or Redis is down: fail now, say when to retry; the node recovers by itself.
    onDown?.(dependencyOf(err), err);
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    return new AppError('unavailable');
  }
  if (isDataException(err)) {
    // A value the database cannot hold got past the edge: a bug to fix, but the user's bad input.
    logger.warn({ err, path: ctx.path }, 'data exception from input');
    return new AppError('invalid_input');
  }
  logger.error({ err, path: ctx.path }, 'unhandled error');
  return new AppError('internal');
}

export function createErrorHandler(logger: Logger, accountOf?: AccountOf, onDown?: OnDependencyDown) {
  return async function errorHandler(ctx: Ctx, next: Next) {
    try {
      await next();
      // A status with no page (no route, a method the route does not take: GET on a form's
      // address, where a browser lands after going back): our own page, never Koa's bare text.
      if (ctx.status >= 400 && ctx.body == null) throw new AppError(STATUS_CODE[ctx.status] ?? 'invalid_input');
    } catch (err) {
      const appErr = toAppError(ctx, err, logger, onDown);
      try {
        if (appErr.code !== 'unavailable') await accountLanguage(ctx, accountOf);
        await renderError(ctx, appErr);
      } catch (renderErr) {
        // The form could not be shown again (its own data failed): the plain error page.
        logger.error({ err: renderErr, path: ctx.path }, 'error page failed');
        renderPage(ctx, 'error', errorPage(ctx, appErr.code), appErr.status);
      }
    }
  };
}
