// The management REST API's router: every operation of api/routes/, at /1/<path> and at
// /api/<path> (the latest version, without a number: "/api" is never a page's address, so the two
// can never collide). Each operation runs the same short pipeline: rate limit and bearer token,
// scope, schemas (path → 404, query and body → 400 validation_failed with each field), handler,
// envelope. Only JSON, errors too, in the Infomaniak envelope (api/envelope.ts).
import Router from '@koa/router';
import type { Next } from 'koa';
import type { z } from 'zod';
import type { Ctx, SesameState } from '../http/context.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import { toAppError, type OnDependencyDown } from '../http/error-handler.ts';
import { setAccountLocale } from '../http/locale.ts';
import { isLocale, parseAcceptLanguage } from '../http/i18n.ts';
import type { ApiAuth, Principal } from './authenticate.ts';
import type { ApiRateLimit } from './rate-limit.ts';
import { sendData, sendError, sendList } from './envelope.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE, type ApiRoute, type Paging } from './route.ts';

/** The API's versions, and the unversioned prefix that means the latest. */
export const API_VERSION = '1';
export const API_PREFIXES = [`/${API_VERSION}`, '/api'] as const;
/** The kAuth device API lives under /1/devices with its own format (kauth/device-routes.ts). */
const DEVICE_API = /^\/1\/devices(\/|$)/i;
const EXPOSED_HEADERS = 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate';
/** A JSON body is small: names, dates, lists of scopes. */
export const API_BODY_LIMIT = 32 * 1024;

export function isApiPath(path: string): boolean {
  if (DEVICE_API.test(path)) return false;
  // Case-insensitive, as the routers match: /API/profile is /1/profile, /1/DEVICES the device API.
  const lower = path.toLowerCase();
  return API_PREFIXES.some((p) => lower === p || lower.startsWith(`${p}/`));
}

function namesOurLanguage(header: string): boolean {
  return parseAcceptLanguage(header).some((tag) => isLocale(tag.trim().toLowerCase().split(/[-_;]/)[0]));
}

/** What a zod problem is called in `errors[].code` (the texts are fieldErrors.* in the catalogs). */
function problemOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'unknown_field';
    case 'invalid_type':
      return issue.input === undefined ? 'required' : 'invalid_type';
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array' ? 'too_short' : 'out_of_range';
    case 'too_big':
      return issue.origin === 'string' || issue.origin === 'array' ? 'too_long' : 'out_of_range';
    case 'invalid_format':
      return issue.format === 'email' ? 'invalid_email' : 'invalid_format';
    case 'invalid_value':
      return 'invalid_choice';
    case 'custom':
      return issue.message;
    default:
      return 'invalid_format';
  }
}

/** Each failed field (dotted path) and its first problem; unknown fields each by name. */
export function apiFieldErrors(issues: z.core.$ZodIssue[]): Record<string, string> {
  // No prototype: a field named __proto__ is a field like any other.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const issue of issues) {
    const at = issue.path.map(String).join('.');
    const fields = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (at ? `${at}.${k}` : k)) : [at || 'body'];
    for (const f of fields) if (!Object.hasOwn(out, f)) out[f] = problemOf(issue);
  }
  return out;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  // reportInput: the issues carry the value, so a field sent with the wrong type is told apart from
  // one left out (problemOf); the value itself is never answered.
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw new AppError('validation_failed', { fieldErrors: apiFieldErrors(r.error.issues) });
  return r.data;
}

/** page and per_page, taken out of the query before the route's own schema sees it. */
function pagingOf(query: Record<string, unknown>): Paging {
  const errors: Record<string, string> = {};
  const num = (name: string, def: number, max: number) => {
    const raw = query[name];
    delete query[name];
    if (raw === undefined) return def;
    const n = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= max)) errors[name] = 'out_of_range';
    return n;
  };
  const page = num('page', 1, 100_000);
  const perPage = num('per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE);
  if (Object.keys(errors).length) throw new AppError('validation_failed', { fieldErrors: errors });
  return { page, perPage, offset: (page - 1) * perPage, limit: perPage };
}

export interface ApiRouterDeps {
  logger: Logger;
  /** The request edge's character and size checks, which also parse the JSON body (http/input-guard.ts). */
  inputGuard: (ctx: Ctx, next: Next) => Promise<unknown>;
  auth: ApiAuth;
  rateLimit: ApiRateLimit;
  routes: readonly ApiRoute[];
  onDown?: OnDependencyDown;
}

export function createApiRouter(deps: ApiRouterDeps) {
  const { auth } = deps;
  const router = new Router<SesameState>();
  /** Every request is counted once: against its token's limit once it authenticated, else against
   *  its address's — whatever it was (an unknown address, bad input, a bad token). */
  const counted = new WeakSet<Ctx>();
  async function rateLimit(ctx: Ctx, key: string) {
    counted.add(ctx);
    await deps.rateLimit(ctx, key);
  }

  /** The caller, counted against its token's limit; without a valid token, against its IP's. */
  async function caller(ctx: Ctx, route: ApiRoute): Promise<Principal | undefined> {
    if (route.scopes === 'public') {
      await rateLimit(ctx, `ip:${ctx.ip}`);
      return undefined;
    }
    let principal: Principal;
    try {
      principal = await auth.authenticate(ctx.get('Authorization') || undefined, ctx.ip);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await rateLimit(ctx, `ip:${ctx.ip}`);
      ctx.set('WWW-Authenticate', 'Bearer realm="sesame", error="invalid_token"');
      throw err;
    }
    await rateLimit(ctx, principal.rateKey);
    ctx.state.apiCaller =
      principal.via === 'personal_token' ? `API · token “${principal.tokenName}”` : `API · ${principal.clientName}`;
    // Descriptions in the account's language when the client names none of ours (the pages' order;
    // fetch and curl send `*` or nothing).
    if (!namesOurLanguage(ctx.get('Accept-Language'))) setAccountLocale(ctx, principal.account);
    if (!route.scopes.some((s) => principal.scopes.has(s))) {
      ctx.set(
        'WWW-Authenticate',
        `Bearer realm="sesame", error="insufficient_scope", scope="${route.scopes.join(' ')}"`,
      );
      throw new AppError('insufficient_scope');
    }
    return principal;
  }

  function bodyOf(ctx: Ctx, route: ApiRoute): unknown {
    if (!route.body) {
      // A body where none is taken is refused, not ignored: its sender expects it to do something.
      // An empty object is no body (some clients always send one).
      const body = ctx.request.body;
      if (body === undefined) {
        if (ctx.is('json') && (ctx.request.length ?? 0) > 0) throw new AppError('invalid_json');
        return undefined;
      }
      const fields = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : ['body'];
      if (fields.length)
        throw new AppError('validation_failed', {
          fieldErrors: Object.fromEntries(fields.map((k) => [k, 'unknown_field'])),
        });
      return undefined;
    }
    if ((ctx.state.bodyBytes ?? 0) > API_BODY_LIMIT) throw new AppError('invalid_input', { status: 413 });
    if (!ctx.is('json')) throw new AppError('invalid_content_type');
    // JSON that did not parse left no body (http/input-guard.ts).
    if (ctx.request.body === undefined) throw new AppError('invalid_json');
    return ctx.request.body;
  }

  function mount(route: ApiRoute) {
    const koaPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    const paths = API_PREFIXES.map((p) => `${p}${koaPath}`);
    router.register(paths, [route.method.toUpperCase()], async (ctx: Ctx) => {
      const principal = await caller(ctx, route);
      const params = route.params?.safeParse(ctx.params ?? {});
      if (params && !params.success) throw new AppError('not_found');
      const query: Record<string, unknown> = { ...ctx.query };
      const paging = route.list ? pagingOf(query) : { page: 1, perPage: MAX_PER_PAGE, offset: 0, limit: MAX_PER_PAGE };
      const body = bodyOf(ctx, route);
      const input = {
        params: params?.data ?? {},
        query: route.query ? parse(route.query, query) : {},
        body: route.body ? parse(route.body, body) : undefined,
        principal: principal as Principal,
        paging,
        ctx,
      };
      const result = await route.handler(input);
      if (route.list) {
        const { items, total } = result as { items: unknown[]; total: number };
        return sendList(ctx, items, total, paging);
      }
      if (route.raw) {
        ctx.body = result;
        return;
      }
      sendData(ctx, result, route.status ?? 200);
    });
  }
  for (const route of deps.routes) mount(route);

  const routes = router.routes() as unknown as (ctx: Ctx, next: Next) => Promise<unknown>;
  const allowed = router.allowedMethods() as unknown as (ctx: Ctx, next: Next) => Promise<unknown>;
  return async function api(ctx: Ctx, next: Next) {
    ctx.state.api = true;
    ctx.set('Cache-Control', 'no-store');
    // Any web page may call the API with a bearer token (a single-page app with its OAuth token):
    // no cookie is ever read here, so an open CORS policy lends nobody's session to anybody.
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, Accept-Language');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    let failure: unknown;
    try {
      await deps.inputGuard(ctx, () => routes(ctx, () => allowed(ctx, next)));
      // 501: a method koa-router does not know at all (TRACE, PROPFIND): no operation takes it either.
      if (ctx.status === 405 || ctx.status === 501) throw new AppError('method_not_allowed');
      if (ctx.status === 404 && ctx.body == null) throw new AppError('not_found');
    } catch (err) {
      failure = err;
    }
    if (!counted.has(ctx)) await rateLimit(ctx, `ip:${ctx.ip}`).catch((err: unknown) => (failure = err));
    if (failure) sendError(ctx, toAppError(ctx, failure, deps.logger, deps.onDown));
  };
}
