// The request edge of every HTML form: form(schema, handler, view) takes the urlencoded body (read
// by http/input-guard.ts, which refused characters the database cannot store), checks the CSRF
// token (before anything else), validates with zod and calls the handler with a typed value.
// Whatever the handler throws as an AppError is shown by the error handler through `view`: the same
// form again, with what the user typed (never a password) and the message in their language.
// Inner code takes typed values and never reads ctx.request.body.
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Ctx, SesameState } from './context.ts';
import { CSRF_FIELD, csrfTokenMatches } from './csrf.ts';
import { MAX_PASSWORD_LENGTH } from '../factors/password.ts';

/** What a form view gets to show the form again. */
export interface FormState {
  values: Record<string, string>;
  error: ErrorCode;
  /** Fields the error is about. */
  fields: string[];
  /** A problem code per field (forms that show them next to each field). */
  errors: Record<string, string>;
}

export type FormView<S extends SesameState = SesameState> = (ctx: Ctx<S>, form: FormState, status: number) => unknown;

export type FormHandler<S extends SesameState, T> = (ctx: Ctx<S>, input: T) => unknown;

/** Never sent back to the page. */
const SECRET_FIELD = /^(_csrf|credential|code|(current_|new_)?password(_again)?)$/;

/** The string fields of a urlencoded body (arrays joined by newlines), for showing the form again. */
function formValues(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string').join('\n');
  }
  return out;
}

export interface FormOptions {
  /** Body size limit (default 64kb). */
  limit?: string;
  /** The error for input that fails the schema, where a form says more than invalid_input. */
  invalid?: (fields: string[]) => AppError;
}

/** '64kb' → bytes. */
function limitBytes(limit: string): number {
  const m = /^(\d+)kb$/.exec(limit);
  if (!m) throw new Error(`form limit must be given in kb: ${limit}`);
  return Number(m[1]) * 1024;
}

/** The message code of one failed field (views/locales `fieldErrors.*`): a custom refinement's own
 *  message (e.g. `https_required`), else what went wrong in words a form can say. */
function fieldErrorOf(issue: z.core.$ZodIssue, values: Record<string, string>): string {
  const present = (values[String(issue.path[0] ?? '')] ?? '').trim() !== '';
  if (!present && issue.code !== 'custom') return 'required';
  switch (issue.code) {
    case 'custom':
      return issue.message;
    case 'too_small':
      if (issue.origin === 'number' && present) return 'out_of_range';
      return present ? 'too_short' : 'required';
    case 'too_big':
      return issue.origin === 'number' ? 'out_of_range' : 'too_long';
    case 'invalid_format':
      return issue.format === 'email' ? 'invalid_email' : 'invalid_format';
    case 'invalid_value':
      return 'invalid_choice';
    case 'invalid_type':
      return present ? 'invalid_format' : 'required';
    default:
      return 'invalid_format';
  }
}

/** Per-field problem codes, the first problem of each field. */
export function fieldErrorsOf(issues: z.core.$ZodIssue[], values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const field = String(i.path[0] ?? 'form');
    if (!Object.hasOwn(out, field)) out[field] = fieldErrorOf(i, values);
  }
  return out;
}

export function form<S extends SesameState, Schema extends z.ZodType>(
  schema: Schema | ((ctx: Ctx<S>) => Schema),
  handler: FormHandler<S, z.output<Schema>>,
  view?: FormView<S>,
  opts: FormOptions = {},
) {
  const limit = limitBytes(opts.limit ?? '64kb');
  return async function formEdge(ctx: Ctx<S>) {
    // The body was read and parsed at the edge (http/input-guard.ts); this form takes less.
    if ((ctx.state.bodyBytes ?? 0) > limit) throw new AppError('invalid_input', { status: 413 });
    const refused = ctx.state.refusedForm;
    const values = formValues(refused ? refused.values : ctx.request.body);
    if (!csrfTokenMatches(ctx, values[CSRF_FIELD])) throw new AppError('csrf_failed');
    const kept = Object.fromEntries(Object.entries(values).filter(([k]) => !SECRET_FIELD.test(k)));
    if (view) {
      ctx.state.rerender = (err) => {
        const state = {
          values: kept,
          error: err.code,
          fields: err.details.fields ?? [],
          errors: err.details.fieldErrors ?? {},
        };
        return view(ctx, state, err.status);
      };
    }
    if (refused) throw new AppError('invalid_characters', { fields: [refused.field] });
    const parsed = (typeof schema === 'function' ? schema(ctx) : schema).safeParse(values);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')))];
      throw (
        opts.invalid?.(fields) ??
        new AppError('invalid_input', { fields, fieldErrors: fieldErrorsOf(parsed.error.issues, values) })
      );
    }
    await handler(ctx, parsed.data);
  };
}

/** What a page passes its view to show a form again (empty on a first GET). */
export function formData(f?: FormState) {
  return { values: f?.values ?? {}, error: f?.error, fields: f?.fields ?? [], errors: f?.errors ?? {} };
}

/** For forms with nothing to validate (a button): the CSRF check alone. */
export const NoFields = z.object({});

/** One field for each common input, so every form trims and bounds them the same way. */
export const emailField = z.string().trim().toLowerCase().max(254).email();
export const nameField = z.string().trim().min(1).max(200);
/** A password typed to prove who you are (any length an old policy allowed). */
export const passwordField = z.string().min(1).max(1024);
/** A password being chosen; the policy itself is factors/password.ts assertPasswordAllowed. */
export const newPasswordField = z.string().min(1).max(MAX_PASSWORD_LENGTH);

/** A form's fields that may be held while the user does something else first (confirm their
 *  password), to be submitted again by the server: every field but the CSRF token; undefined when
 *  the form has a secret field, which is never kept. */
export function keepableValues(body: unknown): Record<string, string> | undefined {
  const values = formValues(body);
  if (Object.keys(values).some((k) => k !== CSRF_FIELD && SECRET_FIELD.test(k))) return undefined;
  delete values[CSRF_FIELD];
  return values;
}
