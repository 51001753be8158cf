import { z } from 'zod';

export type FormResult<T> = { ok: true; data: T } | { ok: false; fields: string[]; values: Record<string, string> };

/** Keeps only string fields of a urlencoded body, so a form can be re-rendered with the user's input. */
export function formValues(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string').join('\n');
    }
  }
  return out;
}

export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.output<S>> {
  const values = formValues(body);
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, fields: [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')))], values };
}

export const emailField = z.string().trim().toLowerCase().max(254).email();
export const nameField = z.string().trim().min(1).max(200);
