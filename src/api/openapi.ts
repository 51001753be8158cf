// The OpenAPI 3.1 document, generated from the routes' own zod schemas (api/route.ts): what
// validates a request is what the document says, so the two cannot drift apart. OpenAPI 3.1 uses
// JSON Schema 2020-12, which zod writes itself (z.toJSONSchema).
import { z } from 'zod';
import { ERROR_CODES, AppError, type ErrorCode } from '../errors.ts';
import type { ApiRoute } from './route.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from './route.ts';
import { ErrorEnvelope, listEnvelope, successEnvelope } from './envelope.ts';
import { OAUTH_API_SCOPES } from '../oidc/resource-indicators.ts';
import { API_VERSION } from './router.ts';

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  delete json.$schema;
  return json;
}

const isOptional = (schema: z.ZodType) => schema.safeParse(undefined).success;

function parametersOf(where: 'path' | 'query', shape: z.ZodRawShape | undefined): Json[] {
  return Object.entries(shape ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || !isOptional(schema as z.ZodType),
    schema: schemaOf(schema as z.ZodType, 'input'),
    ...((schema as z.ZodType).description ? { description: (schema as z.ZodType).description } : {}),
  }));
}

const PAGING_PARAMETERS: Json[] = [
  { name: 'page', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
  {
    name: 'per_page',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE },
  },
];

/** The errors every operation may answer: bad input (400), unknown id (404), the rate limit, an
 *  outage; with a token, 401 and 403; with a body, its size and type. */
function errorCodesOf(route: ApiRoute): ErrorCode[] {
  const codes: ErrorCode[] = ['invalid_input', 'invalid_characters', 'invalid_json', 'validation_failed', 'not_found'];
  codes.push('rate_limited', 'unavailable');
  if (route.scopes !== 'public') codes.push('not_authorized', 'insufficient_scope');
  if (route.body) codes.push('invalid_content_type');
  return [...codes, ...(route.errors ?? [])];
}

const statusOf = (code: ErrorCode) => new AppError(code).status;

const RATE_HEADERS = Object.fromEntries(
  ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'].map((h) => [
    h,
    {
      schema: { type: 'integer' },
      description: "The caller's rate limit: calls a minute, left, seconds to the next window.",
    },
  ]),
);

function operationOf(route: ApiRoute): Json {
  const status = route.status ?? 200;
  const data = route.raw ? route.response : route.list ? listEnvelope(route.response) : successEnvelope(route.response);
  const responses: Json = {
    [status]:
      status === 204
        ? { description: 'Done.', headers: RATE_HEADERS }
        : {
            description: 'Success.',
            headers: RATE_HEADERS,
            content: { 'application/json': { schema: schemaOf(data, 'output') } },
          },
  };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(route)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  byStatus.set(413, ['invalid_input']);
  for (const [s, codes] of [...byStatus].sort(([a], [b]) => a - b))
    responses[s] = {
      description: [...new Set(codes)].map((c) => `\`${c}\``).join(', '),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  const scopes = route.scopes === 'public' ? [] : [...route.scopes];
  const oauthScopes = scopes.filter((s) => OAUTH_API_SCOPES.includes(s));
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security:
      route.scopes === 'public'
        ? []
        : [{ personalToken: scopes }, ...(oauthScopes.length ? [{ oauth2: oauthScopes }] : [])],
    parameters: [
      ...parametersOf('path', route.params?.shape),
      ...parametersOf('query', route.query?.shape),
      ...(route.list ? PAGING_PARAMETERS : []),
    ],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

export interface OpenApiOptions {
  issuer: string;
  version: string;
  /** English descriptions of the scopes and error codes (views/locales/api/en.json). */
  scopeText: (scope: string) => string;
  errorText: (code: ErrorCode) => string;
}

export function buildOpenApi(routes: readonly ApiRoute[], opts: OpenApiOptions): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operationOf(route);
  // What an application may ask for (not tokens:write: oidc/resource-indicators.ts).
  const scopes = Object.fromEntries(OAUTH_API_SCOPES.map((s) => [s, opts.scopeText(s)]));
  // Every code an operation of this API may answer, in the order of src/errors.ts.
  const answered = new Set<ErrorCode>(['method_not_allowed', 'internal', ...routes.flatMap(errorCodesOf)]);
  const errorTable = ERROR_CODES.filter((c) => answered.has(c))
    .map((c) => `| \`${c}\` | ${statusOf(c)} | ${opts.errorText(c)} |`)
    .join('\n');
  return {
    openapi: '3.1.1',
    info: {
      title: 'Sesame management API',
      version: opts.version,
      description: [
        `REST over HTTP with JSON bodies. Every address is \`/${API_VERSION}/<path>\`; \`/api/<path>\` is the`,
        'same operation in the latest version. Authenticate with `Authorization: Bearer <token>`: a personal',
        'API token (Security → API tokens) or an OAuth access token an application got for the user.',
        'Answers use the envelope `{"result": "success", "data": …}`; errors',
        '`{"result": "error", "error": {"code", "description"}}`. Each token may make',
        'a limited number of calls a minute (`RateLimit-*` headers; 429 with `Retry-After` beyond).',
        '',
        '| code | status | meaning |',
        '| --- | --- | --- |',
        errorTable,
      ].join('\n'),
    },
    servers: [{ url: `${opts.issuer}/${API_VERSION}` }],
    paths,
    components: {
      schemas: { Error: schemaOf(ErrorEnvelope, 'output') },
      securitySchemes: {
        personalToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A personal API token (sesame_pat_…), with the scopes chosen when it was made.',
        },
        oauth2: {
          type: 'oauth2',
          description: `An access token for the resource ${opts.issuer}/${API_VERSION} (RFC 8707).`,
          flows: {
            authorizationCode: {
              authorizationUrl: `${opts.issuer}/authorize`,
              tokenUrl: `${opts.issuer}/token`,
              scopes,
            },
          },
        },
      },
    },
  };
}
