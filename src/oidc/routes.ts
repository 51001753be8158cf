// The provider's endpoints, named once: oidc-provider is configured with them and the app hands
// exactly these paths (and discovery) to it.
export const PROVIDER_ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/oauth2/userinfo',
  jwks: '/jwks',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  end_session: '/logout',
  pushed_authorization_request: '/par',
} as const;

const PREFIXES = [...Object.values(PROVIDER_ROUTES), '/.well-known'];

export function isProviderPath(path: string): boolean {
  return PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}
