// oidc-provider, configured — the protocol is the library's; Sesame supplies storage, accounts,
// pages and policy.
import Provider, { type Configuration, type KoaContextWithOIDC, type ClientMetadata } from 'oidc-provider';
import type { Config } from '../config.ts';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { PrivateJwk } from './keys.ts';
import { createAdapterFactory, REFRESH_TOKEN_BITS } from './adapter.ts';
import {
  postLogoutUriAllowed,
  acceptedSecretHashes,
  ACCOUNT_CLIENT_ID,
  PREVIOUS_SECRET,
  PREVIOUS_SECRET_UNTIL,
} from './clients.ts';
import type { Clock } from '../lib/clock.ts';
import { hmac, constantTimeEqual } from '../lib/crypto.ts';
import type { Db } from '../db/client.ts';
import type { Store } from '../store/store.ts';
import type { AdapterDeps } from './adapter.ts';
import type { FindAccount } from 'oidc-provider';
import { ORGANIZATIONS_SCOPE } from './account.ts';

import { ACR_PASSWORD, ACR_MFA, sesamePolicy } from './acr.ts';
import { PROVIDER_ROUTES } from './routes.ts';
import { LOCALES } from '../http/i18n.ts';
import { PROVIDER_CSP } from '../http/security-headers.ts';
import { resourceIndicators } from './resource-indicators.ts';

const ACCESS_TOKEN_TTL = 3600;

export interface ProviderDeps {
  config: Config;
  /** The published order (oidc/keys.ts publishedKeys): each alg's signing key first. */
  keys: PrivateJwk[];
  db: Db;
  store: Store;
  findClient: AdapterDeps['findClient'];
  findAccount: FindAccount;
  /** Prompts of other features, between login and consent (organizations/sign-in-checks.ts). */
  prompts?: Parameters<typeof sesamePolicy>[0];
  /** A new client secret's grace period and the refresh-token grace period end by this clock. */
  clock: Clock;
  pages: {
    logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
    postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
    renderError(
      ctx: KoaContextWithOIDC,
      out: { error: string; error_description?: string },
      error: Error,
    ): Promise<void>;
  };
}

type ProviderJwks = Configuration['jwks'] extends { keys: infer K } | undefined ? K : never;

/** Replaces the keys a running provider signs with and publishes (a rotation, an activation),
 *  without a restart. oidc-provider takes `jwks` only when it is built; its own initializer, called
 *  again, replaces both its keystore (read at every signature and id_token_hint check) and the JWKS
 *  /jwks serves (read per request); nothing else keeps the keys, and the discovery's
 *  *_signing_alg_values_supported stay as they were (the algs never change). It is internal to
 *  oidc-provider: test/keys.test.ts (keys.live-swap) fails if a new version breaks this. */
export function replaceProviderKeys(provider: Provider, keys: PrivateJwk[]): void {
  initializeKeystore.call(provider, { keys });
}

export function hashClientSecret(hashKey: Buffer, secret: string): string {
  return `hmac-sha256:${hmac(hashKey, `client-secret:${secret}`)}`;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config } = deps;
  const configuration: Configuration = {
    adapter: createAdapterFactory({
      db: deps.db,
      store: deps.store,
      findClient: deps.findClient,
      clock: deps.clock,
      refreshGraceSeconds: config.refreshTokenReuseGraceSeconds,
    }),
    findAccount: deps.findAccount,
    jwks: { keys: deps.keys as ProviderJwks },
    cookies: {
      keys: [...config.cookieSecrets],
      names: { session: 'sesame.session', interaction: 'sesame.interaction', resume: 'sesame.resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: { ...PROVIDER_ROUTES },
    scopes: ['openid', 'offline_access', 'email', 'profile', ORGANIZATIONS_SCOPE],
    claims: {
      // amr/acr are passed by the provider from the login; listing them under openid puts them in every ID token.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'locale', 'zoneinfo'],
      // The organizations the user belongs to (not blocked in), with their role: oidc/account.ts.
      [ORGANIZATIONS_SCOPE]: [ORGANIZATIONS_SCOPE],
      sid: null,
    },
    // WordPress and Typo3 read profile claims from the ID token as well as from userinfo.
    conformIdTokenClaims: false,
    acrValues: [ACR_PASSWORD, ACR_MFA],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // The previous secret while a new one's grace period lasts (oidc/clients.ts); set by Sesame only.
    extraClientMetadata: { properties: [PREVIOUS_SECRET, PREVIOUS_SECRET_UNTIL] },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
    },
    pkce: {
      // RFC 9700 §2.1.1: required for public clients; confidential web apps (WordPress) send none.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A client may introspect only its own tokens: others' are reported inactive.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // A client may revoke only its own tokens; others' are left alone (RFC 7009 §2.2: still 200).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: deps.pages.logoutSource,
        postLogoutSuccessSource: deps.pages.postLogoutSuccessSource,
      },
      backchannelLogout: { enabled: true },
      // The REST API as a resource server (`resource=<issuer>/1`): oidc/resource-indicators.ts.
      resourceIndicators: resourceIndicators({ issuer: config.issuer, accessTokenTtl: ACCESS_TOKEN_TTL }),
      userinfo: { enabled: true },
    },
    // WordPress never asks for offline_access and logs users out without a refresh token.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Every refresh rotates; a consumed token presented again revokes the whole grant, unless it is
    // a retry within the grace period (oidc/refresh-rotation.ts).
    rotateRefreshToken: true,
    // Refresh tokens get a length of their own, so that introspection can tell an access token from
    // one without asking PostgreSQL (oidc/adapter.ts).
    formats: {
      bitsOfOpaqueRandomness: (_ctx, token) => (token.kind === 'RefreshToken' ? REFRESH_TOKEN_BITS : 256),
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      ClientCredentials: 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 30 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Grant: 365 * 24 * 3600,
    },
    interactions: {
      policy: sesamePolicy(deps.prompts),
      url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: deps.pages.renderError,
    // oidc-provider refuses outbound calls (back-channel logout) to loopback and private addresses
    // (SSRF protection). Intranet relying parties need ALLOW_PRIVATE_NETWORK_CALLBACKS=true.
    fetch: (url, options) => {
      const opts = config.allowPrivateNetworkCallbacks ? { ...options, dispatcher: undefined } : options;
      return globalThis.fetch(url, opts as RequestInit);
    },
    loadExistingGrant: async (ctx) => {
      const { session, client } = ctx.oidc;
      if (!session || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      // The self-service pages are Sesame itself: no consent screen for them.
      if (client.clientId === ACCOUNT_CLIENT_ID) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ACCOUNT_CLIENT_ID, accountId: session.accountId });
        grant.addOIDCScope('openid');
        await grant.save();
        return grant;
      }
      return undefined;
    },
    discovery: {
      ui_locales_supported: [...LOCALES],
      claims_locales_supported: ['en'],
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: 'RS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  // A CSP on everything the provider answers. Its form_post page (response_mode=form_post) pushes its
  // inline script's hash into the script-src it finds; the pages Sesame renders for it set their own.
  provider.use(async (ctx, next) => {
    ctx.set('Content-Security-Policy', PROVIDER_CSP);
    await next();
  });

  // Client secrets are stored as HMACs: compare the HMAC of what was presented (constant time) with
  // each secret accepted now — the current one, and the previous one during its grace period.
  const { hashKey } = config;
  Object.defineProperty(provider.Client.prototype, 'compareClientSecret', {
    value(this: Record<string, unknown>, actual: string) {
      if (typeof actual !== 'string') return false;
      const presented = hashClientSecret(hashKey, actual);
      const matches = acceptedSecretHashes(this, deps.clock.now()).map((h) => constantTimeEqual(h, presented));
      return matches.includes(true);
    },
  });
  Object.defineProperty(provider.Client.prototype, 'postLogoutRedirectUriAllowed', {
    value(this: ClientMetadata & { postLogoutRedirectUris?: string[] }, value: string) {
      return postLogoutUriAllowed(this.postLogoutRedirectUris ?? [], value);
    },
  });
  return provider;
}
