// A REST API client for tests that checks every answer it gets against the server's own OpenAPI
// document (/1/openapi.json, JSON Schema 2020-12 through ajv): the status must be one the operation
// documents and the body must match its schema. Every API test goes through it, so every response
// in the suite is held to the document.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { TestServer } from './server.ts';
import { afterResponse } from './agent.ts';
import type { Account } from '../../src/db/repositories/accounts.ts';
import type { ApiScope } from '../../src/api/scopes.ts';

type Json = Record<string, any>;

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

interface Checker {
  check(method: string, path: string, answer: ApiAnswer): void;
}

const checkers = new Map<string, Promise<Checker>>();

/** `/1/sessions/abc` or `/api/sessions/abc` → the document's path template and its operation. */
function findOperation(doc: Json, method: string, path: string): { template: string; op: Json } | undefined {
  const rel = path.replace(/^\/(1|api)(?=\/)/i, '').split('?')[0]!;
  for (const [template, ops] of Object.entries(doc.paths as Json)) {
    // Case-insensitive, as the server's routers match.
    const re = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`, 'i');
    if (re.test(rel) && ops[method.toLowerCase()]) return { template, op: ops[method.toLowerCase()] };
  }
  return undefined;
}

async function checkerFor(srv: TestServer): Promise<Checker> {
  const res = await fetch(`${srv.url}/1/openapi.json`);
  if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
  const doc = (await res.json()) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...doc.components.schemas.Error, $id: 'error' });
  const compiled = new Map<object, ValidateFunction>();
  const validatorOf = (schema: Json): ValidateFunction => {
    const resolved = schema.$ref === '#/components/schemas/Error' ? { $ref: 'error' } : schema;
    let v = compiled.get(schema);
    if (!v) compiled.set(schema, (v = ajv.compile(resolved)));
    return v;
  };
  const errorValidator = ajv.getSchema('error')!;
  return {
    check(method, path, answer) {
      const found = findOperation(doc, method, path);
      const where = `${method} ${path} → ${answer.status}`;
      if (!found) {
        // An address the document does not have: only an error in the envelope may come back.
        if (answer.status < 400) throw new Error(`${where}: the OpenAPI document has no such operation`);
        if (!errorValidator(answer.body)) throw new Error(`${where}: not the error envelope: ${answer.text}`);
        return;
      }
      const response = found.op.responses[String(answer.status)];
      if (!response) throw new Error(`${where}: status not documented for ${found.template}: ${answer.text}`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema) {
        if (answer.text !== '') throw new Error(`${where}: documented without a body, got ${answer.text}`);
        return;
      }
      const validate = validatorOf(schema);
      if (!validate(answer.body))
        throw new Error(
          `${where}: body does not match the document: ${ajv.errorsText(validate.errors)}\n${answer.text}`,
        );
    },
  };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** A raw body (malformed JSON, another type): sent as is with this Content-Type. */
  raw?: { type: string; data: string | Buffer };
  /** Send the body in chunks, with no Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
  headers?: Record<string, string>;
}

/** A body as a stream of 16 KB chunks: fetch then sends it chunked, with no length up front. */
function chunks(data: Buffer): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(new Uint8Array(data.subarray(at, (at += 16 * 1024))));
    },
  });
}

/** One API call, its answer checked against the OpenAPI document. */
export async function api(srv: TestServer, method: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw) {
    headers['content-type'] = opts.raw.type;
    body = opts.raw.data;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const sent = opts.chunked && body !== undefined ? chunks(Buffer.from(body)) : body;
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers,
    body: sent as BodyInit | undefined,
    ...(opts.chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  // Like the Agent: what the server sends after its answer (emails) has gone out when this returns.
  await afterResponse.get(srv.url)?.();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`${method} ${path} → ${res.status}: not JSON: ${text.slice(0, 300)}`);
  }
  const answer = { status: res.status, headers: res.headers, body: parsed, text };
  let checker = checkers.get(srv.url);
  if (!checker) checkers.set(srv.url, (checker = checkerFor(srv)));
  (await checker).check(method, path, answer);
  return answer;
}

/** A personal API token for `account`, made by the same service the Security page uses. */
export async function personalToken(
  srv: TestServer,
  account: Pick<Account, 'id'>,
  scopes: readonly ApiScope[],
  over: { name?: string; expiresAt?: Date | null } = {},
): Promise<string> {
  const { token } = await srv.deps.personalTokens.create(
    account.id,
    { name: over.name ?? 'test token', scopes, expiresAt: over.expiresAt ?? null },
    { ip: '127.0.0.1', device: 'test' },
  );
  return token;
}
