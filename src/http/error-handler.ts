// One renderer for our errors: HTML or JSON by Accept, a stable code, a 4xx for bad input, and no
// stack trace ever.
import type { Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Ctx } from './context.ts';
import { renderPage } from './render.ts';
import type { Logger } from '../lib/logger.ts';

export function createErrorHandler(logger: Logger) {
  return async function errorHandler(ctx: Ctx, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && !ctx.body) throw new AppError('not_found');
    } catch (err) {
      let appErr: AppError;
      if (err instanceof AppError) appErr = err;
      else if (err && typeof err === 'object' && 'status' in err && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
        // Koa/body-parser client errors (malformed body, too large, …).
        appErr = new AppError(err.status === 413 ? 'invalid_input' : 'invalid_input');
      } else {
        logger.error({ err, path: ctx.path }, 'unhandled error');
        appErr = new AppError('internal');
      }
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = appErr.status;
        ctx.body = { error: appErr.code, message: ctx.state.t?.(`errors.${appErr.code}`) ?? appErr.code };
      } else {
        renderPage(ctx, 'error', { code: appErr.code }, appErr.status);
      }
    }
  };
}
