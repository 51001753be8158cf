// The one renderer of errors. An AppError becomes, in this order: JSON `{error, message}` for API
// routes and clients that ask for JSON; the page its code has (an expired sign-in, a spent link);
// the form the user was filling in again, with their input (form() registered it); or the error
// page. Anything else is a bug: logged, and shown as `internal` — never a stack trace.
import type { Next } from 'koa';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Ctx } from './context.ts';
import { renderPage } from './render.ts';
import type { Logger } from '../lib/logger.ts';

/** Codes that have a page of their own, whatever the user was doing. */
const PAGE_FOR: Partial<Record<ErrorCode, string>> = {
  session_expired: 'expired',
  link_invalid: 'link-invalid',
};

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
  renderPage(ctx, 'error', { code: err.code }, err.status);
}

/** Protocol errors oidc-provider renders through us (unknown client, bad redirect_uri, …): the
 *  error page with the protocol's code and oidc-provider's description, written for developers. */
export function renderProtocolError(ctx: Ctx, code: string, description: string | undefined, status: number) {
  renderPage(ctx, 'error', { code, description }, status >= 400 ? status : 400);
}

export function createErrorHandler(logger: Logger) {
  return async function errorHandler(ctx: Ctx, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && !ctx.body) throw new AppError('not_found');
    } catch (err) {
      let appErr: AppError;
      if (err instanceof AppError) appErr = err;
      else if (isClientError(err)) appErr = new AppError('invalid_input');
      else {
        logger.error({ err, path: ctx.path }, 'unhandled error');
        appErr = new AppError('internal');
      }
      try {
        await renderError(ctx, appErr);
      } catch (renderErr) {
        // The form could not be shown again (its own data failed): the plain error page.
        logger.error({ err: renderErr, path: ctx.path }, 'error page failed');
        renderPage(ctx, 'error', { code: appErr.code }, appErr.status);
      }
    }
  };
}
