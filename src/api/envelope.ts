// The Infomaniak API's envelope, which code written for it already reads:
//   success {"result": "success", "data": …} (a list adds total, page, pages, items_per_page)
//   error   {"result": "error", "error": {"code", "description", "errors"?: [{code, description,
//           context: {attribute}}]}}
// Codes are stable (src/errors.ts); descriptions are in the language the client asks for.
import { z } from 'zod';
import type { Ctx } from '../http/context.ts';
import type { AppError, ErrorCode } from '../errors.ts';
import type { Translate } from '../http/i18n.ts';
import type { Paging } from './route.ts';

export function sendData(ctx: Ctx, data: unknown, status = 200): void {
  ctx.status = status;
  if (status === 204) {
    ctx.body = null;
    return;
  }
  ctx.body = { result: 'success', data };
}

export function sendList(ctx: Ctx, items: unknown[], total: number, paging: Paging): void {
  ctx.status = 200;
  ctx.body = {
    result: 'success',
    data: items,
    total,
    page: paging.page,
    pages: Math.max(1, Math.ceil(total / paging.perPage)),
    items_per_page: paging.perPage,
  };
}

/** An error's description for programs: the API's own wording where the pages' would mislead
 *  ("this page does not exist"), else the message the pages show. */
export function apiErrorText(t: Translate, code: ErrorCode): string {
  const own = `apiErrors.${code}`;
  const text = t(own);
  return text === own ? t(`errors.${code}`) : text;
}

export function sendError(ctx: Ctx, err: AppError): void {
  const { t } = ctx.state;
  ctx.status = err.status;
  // Every 401 names its scheme (RFC 9110 §15.5.2), a wrong password on POST /1/tokens too.
  if (err.status === 401 && !ctx.response.get('WWW-Authenticate')) ctx.set('WWW-Authenticate', 'Bearer realm="sesame"');
  const fieldErrors = Object.entries(err.details.fieldErrors ?? {});
  ctx.body = {
    result: 'error',
    error: {
      code: err.code,
      description: apiErrorText(t, err.code),
      ...(fieldErrors.length
        ? {
            errors: fieldErrors.map(([attribute, code]) => ({
              code,
              description: t(`fieldErrors.${code}`),
              context: { attribute },
            })),
          }
        : {}),
    },
  };
}

/** The envelopes as schemas, for the OpenAPI document. */
export const successEnvelope = (data: z.ZodType) => z.object({ result: z.literal('success'), data });
export const listEnvelope = (item: z.ZodType) =>
  z.object({
    result: z.literal('success'),
    data: z.array(item),
    total: z.number().int().min(0),
    page: z.number().int().min(1),
    pages: z.number().int().min(1),
    items_per_page: z.number().int().min(1),
  });
export const ErrorEnvelope = z.object({
  result: z.literal('error'),
  error: z.object({
    code: z.string().meta({ description: 'A stable code (README: "API error codes").' }),
    description: z.string(),
    errors: z
      .array(
        z.object({
          code: z.string(),
          description: z.string(),
          context: z.object({ attribute: z.string() }),
        }),
      )
      .optional()
      .meta({ description: 'validation_failed: each field that failed and why.' }),
  }),
});
