// Resource indicators (RFC 8707): a relying party names the REST API (`resource=<issuer>/1`) to get
// an access token for it, holding the API scopes (api/scopes.ts) the user consented to. The API is
// the only resource server Sesame has; any other indicator is refused (invalid_target).
//
// Nothing changes for a relying party that names no resource and asks no API scope (WordPress,
// Drupal, Typo3, mod_auth_openidc, openid-client): no resource is defaulted, so oidc-provider keeps
// only the OpenID scopes and issues the token for userinfo, as before.
//
// A request that asks API scopes without naming the resource gets the API by default, at the
// authorization endpoint only (RFC 8707 §2 lets the server choose a default; Auth0's "default
// audience" and Entra ID's resource-qualified scopes do the same): the scopes are Sesame's own
// names, so they can mean nothing else, and dropping them silently would hide a mistake until the
// first API call. The consent page then lists them and the grant records them. At the token
// endpoint oidc-provider's rule stands: with `openid` and no `resource`, the access token is for
// userinfo; the relying party names the resource at /token (code or refresh) for the API token.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { API_SCOPES, apiResource, type ApiScope } from '../api/scopes.ts';

/** What an application may ask for the user: nothing that makes a credential outliving the grant
 *  (the user's revoking the application, an organization blocking the member) — not `tokens:write`
 *  (a personal token), `applications:write` (a service application and its secret) nor
 *  `organizations:write` (an invitation, a role given to someone) nor `app_passwords:write` (an app
 *  password). Those stay with the user's own personal tokens. */
const NOT_FOR_APPLICATIONS = new Set<ApiScope>([
  'tokens:write',
  'applications:write',
  'organizations:write',
  'app_passwords:write',
]);
export const OAUTH_API_SCOPES: readonly ApiScope[] = API_SCOPES.filter((s) => !NOT_FOR_APPLICATIONS.has(s));
const grantable = new Set<string>(OAUTH_API_SCOPES);

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/** Where a default resource may be chosen: where the user is asked (or the grant is read). */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'pushed_authorization_request', 'resume']);

export function resourceIndicators(opts: { issuer: string; accessTokenTtl: number }): ResourceIndicators {
  const api = apiResource(opts.issuer);
  return {
    enabled: true,
    async defaultResource(ctx: KoaContextWithOIDC, _client, oneOf) {
      // Several named at /authorize, one to pick at /token: the library's default (the only one
      // the request names, else invalid_target).
      if (oneOf) return oneOf;
      if (!AUTHORIZATION_ROUTES.has(String(ctx.oidc.route))) return undefined;
      const scope = ctx.oidc.params?.scope;
      const asked = typeof scope === 'string' ? scope.split(' ') : [];
      return asked.some((s) => grantable.has(s)) ? api : undefined;
    },
    async getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string) {
      if (indicator !== api) throw new errors.InvalidTarget();
      // The API acts for a user and checks what that user may do: a token without one (client
      // credentials) would be refused at every route, so it is not issued.
      if (ctx.oidc.params?.grant_type === 'client_credentials')
        throw new errors.InvalidTarget('the API acts on behalf of a user: use the authorization code flow');
      return {
        scope: OAUTH_API_SCOPES.join(' '),
        audience: api,
        // Opaque, kept in the store through our adapter like every other access token: revocation,
        // a blocked member's revoke-access and sign-out take effect at the next call.
        accessTokenFormat: 'opaque',
        accessTokenTTL: opts.accessTokenTtl,
      };
    },
    // At /token without `resource`, a request with `openid` keeps its userinfo token (the
    // library's rule, above).
    async useGrantedResource() {
      return false;
    },
  };
}
