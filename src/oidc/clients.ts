// Maps an application row to oidc-provider client metadata. Secrets are stored only as an HMAC;
// the provider's compareClientSecret is replaced (see provider.ts) to check against it.
import type { AdapterPayload } from 'oidc-provider';
import type { Application } from '../db/schema.ts';
import type { ApplicationsRepo } from '../db/repositories/applications.ts';

export const ACCOUNT_CLIENT_ID = 'sesame-account';

function isHttpUrl(u: string): boolean {
  return /^https?:\/\//i.test(u);
}

/** Client metadata of ours (oidc-provider's extraClientMetadata): the previous secret's HMAC and
 *  when it stops (ms since the epoch), while a new secret's grace period lasts. */
export const PREVIOUS_SECRET = 'sesame_previous_secret';
export const PREVIOUS_SECRET_UNTIL = 'sesame_previous_secret_until';

/** The secrets a confidential client may present now, as HMACs: the current one, and the previous
 *  one until its grace period ends (read against the injectable clock, so expiry needs no cache
 *  invalidation). */
export function acceptedSecretHashes(client: Record<string, unknown>, now: number): string[] {
  const out = typeof client.clientSecret === 'string' ? [client.clientSecret] : [];
  const previous = client[PREVIOUS_SECRET];
  const until = client[PREVIOUS_SECRET_UNTIL];
  if (typeof previous === 'string' && typeof until === 'number' && until > now) out.push(previous);
  return out;
}

function secrets(app: Application) {
  const previous =
    app.previousSecretHash && app.previousSecretExpiresAt
      ? { [PREVIOUS_SECRET]: app.previousSecretHash, [PREVIOUS_SECRET_UNTIL]: app.previousSecretExpiresAt.getTime() }
      : {};
  return { client_secret: app.secretHash ?? undefined, ...previous };
}

function applicationToClient(app: Application): AdapterPayload {
  const base = {
    client_id: app.clientId,
    client_name: app.name,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    ...(app.backchannelLogoutUri
      ? { backchannel_logout_uri: app.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    id_token_signed_response_alg: 'RS256' as const,
  };
  switch (app.type) {
    case 'web':
      return {
        ...base,
        ...secrets(app),
        token_endpoint_auth_method: 'client_secret_basic', // client_secret_post works too
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: app.redirectUris,
        application_type: 'web',
      };
    case 'spa':
      return {
        ...base,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: app.redirectUris,
        // Mobile apps use custom schemes (com.example.app:/cb): that makes them "native" clients.
        application_type: app.redirectUris.every(isHttpUrl) ? 'web' : 'native',
      };
    case 'service':
      return {
        ...base,
        ...secrets(app),
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      };
    case 'mail_server':
      // Dovecot's oauth2 passdb sends its secret in the body (client_secret_post): accepted too.
      return {
        ...base,
        ...secrets(app),
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['password'],
        response_types: [],
        redirect_uris: [],
      };
  }
}

/** The first-party client behind the self-service pages (/account). It never holds a secret and
 *  its consent is implied. */
function accountClient(issuer: string): AdapterPayload {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Sesame',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/`],
    application_type: 'web',
  };
}

/** The provider's client lookup: the self-service client, or a registered application. */
export function createClientLoader(deps: { repos: { applications: ApplicationsRepo }; config: { issuer: string } }) {
  return async function loadClient(clientId: string): Promise<AdapterPayload | undefined> {
    if (clientId === ACCOUNT_CLIENT_ID) return accountClient(deps.config.issuer);
    const app = await deps.repos.applications.findByClientId(clientId);
    return app ? applicationToClient(app) : undefined;
  };
}

/** The query keys of a URL, sorted, repeats kept: the shape a post-logout URL must keep. */
function queryKeys(u: URL): string {
  return JSON.stringify([...u.searchParams.keys()].sort());
}

/** Post-logout redirects: an exact match, or a registered URL with the same query keys and other
 *  values. WordPress varies `wp_lang` with the user's locale (`wp-login.php?loggedout=true&wp_lang=fr_FR`
 *  for a registered `…&wp_lang=en_US`). A key the registration does not have is refused: it would let
 *  `wp-login.php?redirect_to=https://evil.example/` chain into an open redirect on the site. */
export function postLogoutUriAllowed(registered: readonly string[], value: string): boolean {
  if (registered.includes(value)) return true;
  let target: URL;
  try {
    target = new URL(value);
  } catch {
    return false;
  }
  if (target.hash) return false;
  return registered.some((r) => {
    try {
      const u = new URL(r);
      return u.origin === target.origin && u.pathname === target.pathname && queryKeys(u) === queryKeys(target);
    } catch {
      return false;
    }
  });
}
