// The request edge for characters: every parameter a request carries (path, query string,
// urlencoded or JSON body, Basic credentials, bearer and DPoP tokens, and the claims inside JWTs and
// JSON-valued parameters such as an id_token_hint, a request object or `claims`) must be valid UTF-8
// without NUL (U+0000) or a lone surrogate. PostgreSQL can store neither in text or jsonb: letting
// them through turns a typo or an attack into a failed query (a 500, a spent link or code). They are
// refused here, before oidc-provider and the database see them.
//
// The body is read and parsed once, here. oidc-provider accepts a body parsed before it (when the
// stream was read it uses ctx.request.body, shared/selective_body.js); form() and the device API
// read ctx.request.body too. A urlencoded body is parsed with node:querystring, as oidc-provider
// would parse it itself.
import querystring from 'node:querystring';
import type { Next } from 'koa';
import type { Ctx } from './context.ts';
import { AppError } from '../errors.ts';
import { renderProtocolError } from './error-handler.ts';

declare module 'koa' {
  interface Request {
    /** The parsed urlencoded or JSON body (set here, before anything else reads it). */
    body?: unknown;
  }
}

export interface BadInput {
  /** The parameter at fault ('path', a query or body field, 'authorization', 'body'). */
  param: string;
  reason: 'characters' | 'too_large' | 'malformed';
  /** A form body's fields, the refused characters replaced by U+FFFD: for showing the form again. */
  form?: Record<string, string | string[] | undefined>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A compact JWS (RFC 7515 §7.1) whose header is a JSON object ("eyJ" is base64url for '{"'). */
const JWS = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
/** JWTs inside JSON inside JWTs: deep enough for a request object carrying an id_token_hint. */
const MAX_DEPTH = 4;
const HEX_PAIR = /^[0-9a-f]{2}$/i;
/** Arrays and objects inside one another: no request of ours needs more; deeper JSON is refused as
 *  malformed before anything walks it (a walk 5000 levels deep overflows the stack: a 500). */
const MAX_NESTING = 32;
/** Methods whose body is read (DELETE too: the REST API revokes several tokens with a list in it). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Text PostgreSQL can store: no NUL, no lone surrogate; and so for the JSON or JWT it may hold. */
export function isCleanText(s: string, depth = 0): boolean {
  if (s.includes('\0') || LONE_SURROGATE.test(s)) return false;
  if (depth >= MAX_DEPTH) return true;
  if (JWS.test(s)) {
    return s.split('.', 2).every((part) => {
      const text = decodeUtf8(Buffer.from(part, 'base64url'));
      return text !== undefined && isCleanJsonText(text, depth + 1);
    });
  }
  if (s.startsWith('{') || s.startsWith('[')) return isCleanJsonText(s, depth + 1);
  return true;
}

/** Not JSON is not this check's business (the parameter's own parser refuses it). */
function isCleanJsonText(text: string, depth: number): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return !text.includes('\0');
  }
  return !isTooDeep(value) && isCleanValue(value, depth);
}

/** Whether JSON nests arrays and objects deeper than MAX_NESTING (walked without recursion). */
export function isTooDeep(value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, level] = item;
    if (!v || typeof v !== 'object') continue;
    if (level >= MAX_NESTING) return true;
    for (const child of Object.values(v)) stack.push([child, level + 1]);
  }
  return false;
}

/** Only called on values isTooDeep has passed: the recursion is bounded. */
function isCleanValue(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return isCleanText(value, depth);
  if (Array.isArray(value)) return value.every((v) => isCleanValue(v, depth));
  if (value && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) => isCleanText(k, MAX_DEPTH) && isCleanValue(v, depth));
  }
  return true;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** One percent-encoded component ('+' a space in forms) as text, or undefined when its bytes are
 *  not UTF-8. `raw` holds one character per byte (latin1), as the URL and body arrive. */
function decodeComponent(raw: string, plusIsSpace: boolean): string | undefined {
  const bytes = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && HEX_PAIR.test(raw.slice(i + 1, i + 3))) {
      bytes[n++] = parseInt(raw.slice(i + 1, i + 3), 16);
      i += 2;
    } else bytes[n++] = c === 0x2b && plusIsSpace ? 0x20 : c & 0xff;
  }
  return decodeUtf8(bytes.subarray(0, n));
}

/** The first bad field of a query string or urlencoded body. */
function badPair(raw: string): BadInput | undefined {
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1), true);
    if (key === undefined || !isCleanText(key, MAX_DEPTH)) return { param: 'parameter name', reason: 'characters' };
    if (value === undefined || !isCleanText(value)) return { param: key, reason: 'characters' };
  }
  return undefined;
}

/** Basic credentials are form-urlencoded id and secret (RFC 6749 §2.3.1); other schemes a token. */
function cleanAuthorization(header: string): boolean {
  const [scheme, credentials = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic') return isCleanText(credentials);
  const text = decodeUtf8(Buffer.from(credentials, 'base64'));
  if (text === undefined) return false;
  return text.split(':').every((part) => {
    const decoded = decodeComponent(part, true);
    return decoded !== undefined && isCleanText(decoded);
  });
}

/** A refused form's fields as they may be shown again: NUL as U+FFFD, like bytes that were not UTF-8. */
function shownAgain(fields: querystring.ParsedUrlQuery): BadInput['form'] {
  const visible = (v: string) => v.replaceAll('\0', '\uFFFD');
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [visible(k), Array.isArray(v) ? v.map(visible) : v && visible(v)]),
  );
}

/** A body past its limit is still read (and dropped) up to this much, so that the answer can be
 *  sent: leaving the loop destroys the request, and with it the connection the answer needs. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

async function readBody(ctx: Ctx, limit: number): Promise<Buffer | 'too_large'> {
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limit) return 'too_large';
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received <= limit) chunks.push(chunk);
    else if (received > DRAIN_LIMIT) break;
  }
  if (received <= limit) return Buffer.concat(chunks, received);
  // A chunked body that was too large: this connection is not worth keeping.
  ctx.set('Connection', 'close');
  return 'too_large';
}

/** Checks every parameter of the request and parses its body (urlencoded or JSON) into
 *  ctx.request.body. Returns what is wrong, or undefined when the request may go on. */
export async function checkInput(ctx: Ctx, bodyLimit: number): Promise<BadInput | undefined> {
  const path = decodeComponent(ctx.path, false);
  if (path === undefined || !isCleanText(path, MAX_DEPTH)) return { param: 'path', reason: 'characters' };
  const query = badPair(ctx.querystring);
  if (query) return query;
  for (const name of ['authorization', 'dpop']) {
    const value = ctx.get(name);
    if (value && !(name === 'authorization' ? cleanAuthorization(value) : isCleanText(value))) {
      return { param: name, reason: 'characters' };
    }
  }
  if (!BODY_METHODS.has(ctx.method)) return undefined;
  const type = ctx.is('urlencoded', 'json');
  if (!type) return undefined;
  const raw = await readBody(ctx, bodyLimit);
  if (raw === 'too_large') return { param: 'body', reason: 'too_large' };
  if (type === 'urlencoded') {
    const bad = badPair(raw.toString('latin1'));
    if (bad) return { ...bad, form: shownAgain(querystring.parse(raw.toString('utf8'))) };
    ctx.request.body = querystring.parse(raw.toString('utf8'));
    ctx.state.bodyBytes = raw.length;
    return undefined;
  }
  const text = decodeUtf8(raw);
  if (text === undefined) return { param: 'body', reason: 'characters' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { param: 'body', reason: 'malformed' };
  }
  if (isTooDeep(body)) return { param: 'body', reason: 'malformed' };
  if (!isCleanValue(body, 0)) return { param: 'body', reason: 'characters' };
  ctx.request.body = body;
  ctx.state.bodyBytes = raw.length;
  return undefined;
}

/** Our pages and APIs: an AppError, which the error handler shows as a page or JSON. A form whose
 *  fields are refused goes on without a body (nothing reads what was refused): form() shows it
 *  again with the message, where the user's language and the form's page are known. */
export function createInputGuard(bodyLimit: number) {
  return async function inputGuard(ctx: Ctx, next: Next) {
    const bad = await checkInput(ctx, bodyLimit);
    if (bad?.form) {
      ctx.state.refusedForm = { field: bad.param, values: bad.form };
      return next();
    }
    // JSON that does not parse leaves no body: the route refuses it in its own terms (a form has
    // no CSRF token then, the device API no fields).
    if (bad?.reason === 'malformed') return next();
    if (bad) {
      const code = bad.reason === 'characters' ? 'invalid_characters' : 'invalid_input';
      throw new AppError(code, { fields: [bad.param], ...(bad.reason === 'too_large' ? { status: 413 } : {}) });
    }
    await next();
  };
}

const DESCRIPTION: Record<BadInput['reason'], string> = {
  characters: 'contains a NUL character or is not valid UTF-8',
  too_large: 'is too large',
  malformed: 'could not be parsed',
};

/** The provider's endpoints: oidc-provider's own error format (shared/error_handler.js), a 400
 *  `invalid_request` (RFC 6749 §5.2) — its error page for a browser that asks for HTML, else JSON
 *  `{ error, error_description }`. */
export function createProtocolInputGuard(bodyLimit: number) {
  return async function protocolInputGuard(ctx: Ctx, next: Next) {
    const bad = await checkInput(ctx, bodyLimit);
    if (!bad) return next();
    const description = `${bad.param} ${DESCRIPTION[bad.reason]}`;
    if (ctx.accepts('json', 'html') === 'html') return renderProtocolError(ctx, 'invalid_request', description, 400);
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_request', error_description: description };
  };
}
