// What a token may do in the REST API. A personal API token holds the scopes its owner picked; an
// OAuth access token for the API (resource indicator API_RESOURCE) holds those the user consented
// to. An OAuth access token for userinfo (an ordinary sign-in: `openid profile email`) may read the
// profile and nothing else: code written for Infomaniak's API reads the user with that token.
// Plain descriptions, for the API tokens page and the consent page: `apiScopes.<scope>` in
// views/locales/api/<lang>.json.

export const API_SCOPES = [
  'profile:read',
  'profile:write',
  'security:read',
  'sessions:read',
  'sessions:write',
  'activity:read',
  'applications:read',
  'applications:write',
  'organizations:read',
  'organizations:write',
  'tokens:read',
  'tokens:write',
  'app_passwords:read',
  'app_passwords:write',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export function isApiScope(s: unknown): s is ApiScope {
  return typeof s === 'string' && (API_SCOPES as readonly string[]).includes(s);
}

/** The resource indicator (RFC 8707) a relying party names to get an access token for the API. */
export function apiResource(issuer: string): string {
  return `${issuer}/1`;
}

/** The OpenID scopes that, in a token for userinfo, also read the profile through the API. */
const PROFILE_OIDC_SCOPES = new Set(['profile', 'email']);

/** The API scopes a space-separated scope string grants. `forApi`: the token was issued for the
 *  API resource (its scopes are API scopes); otherwise it is a userinfo token. */
export function grantedApiScopes(scope: string | undefined, forApi: boolean): Set<ApiScope> {
  const parts = (scope ?? '').split(' ').filter(Boolean);
  if (forApi) return new Set(parts.filter(isApiScope));
  return new Set(parts.some((p) => PROFILE_OIDC_SCOPES.has(p)) ? (['profile:read'] as const) : []);
}

/** The OpenID scopes of a sign-in token that decide which profile fields it may read. */
export function profileClaims(scope: string | undefined): Set<'profile' | 'email'> {
  const parts = new Set((scope ?? '').split(' '));
  return new Set((['profile', 'email'] as const).filter((s) => parts.has(s)));
}

/** The scopes held, and the read scope of each write scope held (a route that reads takes both). */
export function impliedScopes(held: ReadonlySet<ApiScope>): Set<ApiScope> {
  const out = new Set(held);
  for (const s of held) {
    const read = s.replace(/:write$/, ':read');
    if (isApiScope(read)) out.add(read);
  }
  return out;
}
