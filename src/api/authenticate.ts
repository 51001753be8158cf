// Who is calling the REST API: the bearer token of the Authorization header (RFC 6750 §2.1; never
// a cookie, so no page's session can be ridden by another site), either a personal API token or an
// OAuth access token oidc-provider issued. Every refusal is the same 401 `not_authorized`: it never
// says whether a token exists, expired or was revoked.
import type Provider from 'oidc-provider';
import type { AccountsRepo, Account } from '../db/repositories/accounts.ts';
import { AppError } from '../errors.ts';
import type { PersonalTokens } from './personal-tokens.ts';
import { apiResource, grantedApiScopes, profileClaims, type ApiScope } from './scopes.ts';
import { API_TOKEN_PREFIX } from './token-format.ts';

export interface Principal {
  account: Account;
  scopes: ReadonlySet<ApiScope>;
  via: 'personal_token' | 'oauth';
  /** The personal token's id (its own row: /1/tokens marks it "current"). */
  tokenId?: string;
  /** The application an OAuth token was issued to, and its name. */
  clientId?: string;
  clientName?: string;
  /** The personal token's name (the activity log says which token did what). */
  tokenName?: string;
  /** A sign-in token (for userinfo) reads the profile only as far as its OpenID scopes let
   *  userinfo (`profile`, `email`); undefined: every field (personal and API tokens). */
  claims?: ReadonlySet<'profile' | 'email'>;
  /** A personal token's own expiry (null: none): a token it makes may not outlive it. */
  expiresAt?: Date | null;
  /** The rate limit's bucket: one per token. */
  rateKey: string;
}

export interface ApiAuthDeps {
  config: { issuer: string };
  provider: Provider;
  accounts: AccountsRepo;
  personalTokens: PersonalTokens;
  /** An application's registration, or undefined once it is deleted (the client cache). */
  findClient: (clientId: string) => Promise<{ client_name?: unknown } | undefined>;
}

/** The bearer token of the request, or undefined (no header, another scheme). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header ?? '');
  return m?.[1];
}

const refused = () => new AppError('not_authorized');

export function createApiAuth(deps: ApiAuthDeps) {
  const { provider, accounts, personalTokens } = deps;
  const resource = apiResource(deps.config.issuer);

  /** Only confirmed accounts exist for programs, as for relying parties (oidc/account.ts). */
  function confirmed(account: Account | undefined): Account {
    if (!account?.emailVerified) throw refused();
    return account;
  }

  async function personal(token: string, ip: string): Promise<Principal> {
    const found = await personalTokens.authenticate(token, ip);
    if (!found) throw refused();
    const { token: row } = found;
    return {
      account: confirmed(found.account),
      scopes: new Set(row.scopes as ApiScope[]),
      via: 'personal_token',
      tokenId: row.id,
      tokenName: row.name,
      expiresAt: row.expiresAt,
      rateKey: `pat:${row.id}`,
    };
  }

  /** As userinfo checks one (oidc-provider shared/access_token.js): found and not expired, its
   *  client still there; a sender-constrained token (DPoP, mTLS) is not for this API. Unlike
   *  userinfo, the grant is not read back from PostgreSQL on every call: whatever ends a grant
   *  (revocation, sign-out, a blocked member, a deleted application) deletes its access tokens from
   *  the store (oidc/adapter.ts revokeByGrantId), so a token found there still has its grant. */
  async function oauth(token: string): Promise<Principal> {
    const at = await provider.AccessToken.find(token);
    if (!at || !at.accountId || at.isSenderConstrained()) throw refused();
    const forApi = at.aud === resource || (Array.isArray(at.aud) && at.aud.includes(resource));
    if (at.aud !== undefined && !forApi) throw refused();
    // The client's registration from our cache (oidc/client-cache.ts: dropped at once when the
    // application is deleted), not oidc-provider's Client.find, which builds and validates a client
    // object on every call.
    const client = await deps.findClient(at.clientId as string);
    if (!client) throw refused();
    return {
      account: confirmed(await accounts.findById(at.accountId)),
      scopes: grantedApiScopes(at.scope, forApi),
      ...(forApi ? {} : { claims: profileClaims(at.scope) }),
      via: 'oauth',
      clientId: at.clientId,
      clientName: typeof client.client_name === 'string' ? client.client_name : at.clientId,
      rateKey: `at:${at.jti}`,
    };
  }

  return {
    /** The caller, or AppError('not_authorized'). */
    async authenticate(authorization: string | undefined, ip: string): Promise<Principal> {
      const token = bearerToken(authorization);
      if (!token) throw refused();
      return token.startsWith(API_TOKEN_PREFIX) ? personal(token, ip) : oauth(token);
    },
  };
}
export type ApiAuth = ReturnType<typeof createApiAuth>;
