// One API operation, described once: its address, the scopes it takes, the zod schemas of its
// path parameters, query, body and answer, and its handler. The router (api/router.ts) validates
// requests with these schemas and wraps answers in the envelope; api/openapi.ts turns the very same
// schemas into the OpenAPI document. A handler gets typed input and returns the envelope's `data`
// (for a list: one page of items and the total); it never reads ctx.request.
import { z } from 'zod';
import type { Ctx } from '../http/context.ts';
import type { ErrorCode } from '../errors.ts';
import type { Principal } from './authenticate.ts';
import type { ApiScope } from './scopes.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `page` (from 1) and `per_page` of a list; `offset`/`limit` for the query. */
export interface Paging {
  page: number;
  perPage: number;
  offset: number;
  limit: number;
}

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

export interface ApiInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  /** Lists only. */
  paging: Paging;
  ctx: Ctx;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;
type Empty = z.ZodObject<Record<never, never>>;

interface RouteBase<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: HttpMethod;
  /** OpenAPI style, after the version: '/sessions/{id}'. */
  path: string;
  /** Unique, camelCase: the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  /** The OpenAPI tag (the resource). */
  tag: string;
  /** Any one of these lets the call through; 'public': no token at all. */
  scopes: readonly ApiScope[] | 'public';
  params?: P;
  query?: Q;
  body?: B;
  /** Success status: 200 (default), 201 for a creation, 204 with no data. */
  status?: 200 | 201 | 204;
  /** Answered as the data itself, without the envelope (the OpenAPI document). */
  raw?: boolean;
  /** Error codes this operation may answer beyond the ones every operation may (documented). */
  errors?: readonly ErrorCode[];
}

export interface ItemRoute<
  P extends AnyObject,
  Q extends AnyObject,
  B extends z.ZodType,
  R extends z.ZodType,
> extends RouteBase<P, Q, B> {
  list?: false;
  /** The envelope's `data`. */
  response: R;
  handler: (input: ApiInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<z.input<R>>;
}

export interface ListRoute<
  P extends AnyObject,
  Q extends AnyObject,
  B extends z.ZodType,
  R extends z.ZodType,
> extends RouteBase<P, Q, B> {
  /** A paginated list: `page`/`per_page` in the query, `total`, `pages`… in the envelope. */
  list: true;
  /** One item of `data`. */
  response: R;
  handler: (input: ApiInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<{ items: z.input<R>[]; total: number }>;
}

/** A route with its types erased, as the router and the OpenAPI generator see it. */
export interface ApiRoute extends RouteBase<AnyObject, AnyObject, z.ZodType> {
  list?: boolean;
  response: z.ZodType;
  handler: (input: ApiInput<unknown, unknown, unknown>) => Promise<unknown>;
}

export function defineRoute<
  R extends z.ZodType,
  P extends AnyObject = Empty,
  Q extends AnyObject = Empty,
  B extends z.ZodType = z.ZodUndefined,
>(route: ItemRoute<P, Q, B, R> | ListRoute<P, Q, B, R>): ApiRoute {
  return route as unknown as ApiRoute;
}

/** Data of a 204: none. */
export const NoContent = z.null();

/** Path ids: our uuids. A malformed one is a 404, like an unknown one (never a 500 from the database). */
export const uuidParam = z.string().uuid();
/** The path of a resource named by its uuid: /…/{id}. */
export const IdParams = z.object({ id: uuidParam });

/** One page of a list read whole (small lists: an organization's members, a user's sessions), each
 *  item shown with `show`, and the total a list route answers. */
export function pageOf<T, U>(all: readonly T[], paging: Paging, show: (item: T) => U): { items: U[]; total: number } {
  return { items: all.slice(paging.offset, paging.offset + paging.limit).map(show), total: all.length };
}
