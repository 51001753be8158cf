// The forward-auth endpoint for reverse proxies in front of WebDAV, CalDAV and CardDAV servers: nginx
// `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`. The proxy passes the client's
// `Authorization: Basic login:password` (any method: nginx's subrequest keeps the client's, PROPFIND
// included) and Sesame answers
//  - 200 with headers naming the user for the backend (the proxy copies them on), or
//  - 401 with `WWW-Authenticate: Basic realm="…"` (the proxy passes it to the client, which asks for
//    the password) — the same answer for a wrong password, an unknown login, a locked or blocked
//    account and a rate-limited address.
// verify.ts decides; this file only speaks HTTP. Mounted ahead of the pages' middleware (no CSRF:
// no cookie is read; no body is read), so a sync burst costs the check and nothing else.
import type { Next } from 'koa';
import type { Ctx } from '../http/context.ts';
import type { Logger } from '../lib/logger.ts';
import { isDependencyDown, RETRY_AFTER_SECONDS } from '../lib/dependency.ts';
import type { SyncVerifier } from './verify.ts';

export const FORWARD_AUTH_PATH = '/auth/forward';
/** The realm when the proxy names none (`?realm=` on the endpoint's address names one). */
const DEFAULT_REALM = 'Sesame';

/** A realm a proxy may ask for: printable ASCII without quotes or backslashes, 64 at most. */
export function realmOf(asked: unknown): string {
  return typeof asked === 'string' && /^[\x20-\x7e]{1,64}$/.test(asked) && !/["\\]/.test(asked) ? asked : DEFAULT_REALM;
}

/** `login:password` from an `Authorization: Basic` header; undefined when it is not one. The password
 *  may contain ":" (only the first one splits, RFC 7617). */
export function basicCredentials(header: string | undefined): { login: string; password: string } | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]{1,2000})\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { login: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The header-safe form of a value (HTTP header values are bytes; an email is ASCII in practice,
 *  an internationalized one is percent-encoded rather than mangled). */
const headerValue = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v));

/** What the tool reached, as the proxy tells it (for the app password's "last used"). */
function serviceOf(ctx: Ctx): string | null {
  const host = ctx.get('X-Forwarded-Host') || ctx.get('X-Original-Host');
  return /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : null;
}

export function createForwardAuth(deps: { verifier: SyncVerifier; logger: Logger }) {
  return async function forwardAuth(ctx: Ctx, _next?: Next): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    const realm = realmOf(ctx.query.realm);
    const refuse = (error: string) => {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
      ctx.body = { error };
    };
    const credentials = basicCredentials(ctx.get('Authorization'));
    if (!credentials) return refuse('credentials_required');
    try {
      const result = await deps.verifier.check({
        ...credentials,
        channel: 'forward_auth',
        service: serviceOf(ctx),
        ip: ctx.ip,
      });
      if (!result.ok) return refuse(result.reason === 'rate_limited' ? 'rate_limited' : 'invalid_credentials');
      const { account } = result;
      ctx.status = 200;
      ctx.set('X-Sesame-Sub', account.id);
      ctx.set('X-Sesame-User-Id', String(account.userId));
      ctx.set('X-Sesame-Email', headerValue(account.email));
      // The names Authelia and authentik use, which many backends' docs already expect.
      ctx.set('Remote-User', headerValue(account.email));
      ctx.set('Remote-Email', headerValue(account.email));
      ctx.set('X-Sesame-Credential', result.via);
      ctx.body = '';
    } catch (err) {
      if (!isDependencyDown(err)) throw err;
      deps.logger.warn({ err }, 'forward auth: a dependency is down');
      ctx.status = 503;
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      ctx.body = { error: 'temporarily_unavailable' };
    }
  };
}
