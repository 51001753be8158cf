// The password grant (RFC 6749 §4.3) at the token endpoint, for mail servers: Dovecot's `oauth2`
// passdb (`use_grant_password = yes`, Debian's dovecot-imapd as shipped) posts the IMAP/POP3/SMTP
// login and password with its client ID and secret, and takes a 2xx JSON answer as a right password,
// `400 invalid_grant` as a wrong one.
//  - Only a client registered for it (a "Mail server" application: grant_types ["password"], a
//    client secret) may use it; any other, public ones included, gets `unauthorized_client`.
//  - The password is checked by the sync verifier (verify.ts) on its `password_grant` channel: app
//    passwords only, never the account password (with or without 2FA), on the sync channel's own
//    rate limits and lockout budget.
//  - Every refusal — wrong, revoked, unknown login, locked or blocked account, rate-limited — is the
//    same `invalid_grant`, so the answer tells nothing of whether the account exists.
//  - A success issues a short-lived opaque access token through oidc-provider's own AccessToken
//    model (the account, the client, no scope, no API audience: it opens nothing at the REST API or
//    userinfo), no refresh token and no ID token; the answer carries the account's `email`, which is
//    Dovecot's default `username_attribute`, so it needs no introspection round trip.
// The client is authenticated before this handler runs, so the mail server's `send_auth_headers`
// (X-Dovecot-Auth-Remote: the IMAP client's address) is believed: the per-IP limit then counts the
// mail client, not the mail server all users share.
import { isIP } from 'node:net';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { SyncVerifier } from './verify.ts';

export const PASSWORD_GRANT = 'password';
/** The access token's lifetime, in seconds: Dovecot reads the answer and never uses the token. */
export const PASSWORD_GRANT_TOKEN_TTL = 300;
/** What the grant reads (a `scope` is dropped: the token has none). */
const PARAMETERS = ['username', 'password'];

/** The mail client's address from Dovecot's X-Dovecot-Auth-Remote ("192.0.2.7:51234",
 *  "[2001:db8::7]:51234"), or undefined when the header is missing or not an address. */
export function dovecotRemoteIp(header: string | undefined): string | undefined {
  const m = /^\[([0-9a-fA-F:.]{2,45})\]:\d{1,5}$/.exec(header ?? '') ?? /^([0-9.]{7,15}):\d{1,5}$/.exec(header ?? '');
  const ip = m?.[1];
  return ip && isIP(ip) ? ip : undefined;
}

/** What the user's app password list shows as "last used with": the application's name and the
 *  protocol Dovecot names (X-Dovecot-Auth-Service: imap, pop3, smtp…). */
function serviceOf(clientName: string | undefined, protocol: string | undefined): string {
  const name = (clientName ?? '').slice(0, 100) || 'imap';
  return protocol && /^[a-z0-9-]{1,20}$/.test(protocol) ? `${name} (${protocol})` : name;
}

type TokenProperties = ConstructorParameters<Provider['AccessToken']>[0];
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export function registerPasswordGrant(provider: Provider, deps: { verifier: SyncVerifier }): void {
  // oidc-provider answers `invalid_request` to a client using a grant type it is not registered for;
  // RFC 6749 §5.2 says `unauthorized_client`, which the handler answers itself. Only this grant type
  // takes the detour: every other check is the library's, unchanged.
  const allowed = provider.Client.prototype.grantTypeAllowed;
  Object.defineProperty(provider.Client.prototype, 'grantTypeAllowed', {
    value(this: InstanceType<Provider['Client']>, type: string) {
      return type === PASSWORD_GRANT || allowed.call(this, type);
    },
  });

  async function passwordGrant(ctx: KoaContextWithOIDC) {
    const { client, params } = ctx.oidc;
    if (!client?.grantTypes?.includes(PASSWORD_GRANT) || client.clientAuthMethod === 'none')
      throw new errors.UnauthorizedClient('this client is not registered for the password grant');
    const login = text(params?.username);
    const password = text(params?.password);
    const missing = [login ? '' : 'username', password ? '' : 'password'].filter(Boolean);
    if (!login || !password) throw new errors.InvalidRequest(`missing required parameter(s) ${missing.join(', ')}`);

    const result = await deps.verifier.check({
      login,
      password,
      channel: 'password_grant',
      service: serviceOf(client.clientName, ctx.get('X-Dovecot-Auth-Service') || undefined),
      ip: dovecotRemoteIp(ctx.get('X-Dovecot-Auth-Remote')) ?? ctx.ip,
    });
    if (!result.ok) throw new errors.InvalidGrant('invalid credentials');

    // No grant behind it (no consent, nothing to revoke later: it expires in minutes); the library's
    // types ask for a grantId, which its model does not require.
    const props: Omit<TokenProperties, 'grantId'> = {
      accountId: result.account.id,
      client,
      gty: PASSWORD_GRANT,
      expiresIn: PASSWORD_GRANT_TOKEN_TTL,
    };
    const token = new provider.AccessToken(props as TokenProperties);
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: token.tokenType,
      expires_in: token.expiration,
      email: result.account.email.toLowerCase(),
    };
  }
  provider.registerGrantType(PASSWORD_GRANT, passwordGrant, PARAMETERS);
}
