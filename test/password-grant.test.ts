// The password grant at /token, as Dovecot's oauth2 passdb uses it (issue 14 item 3), over HTTP: only
// a "Mail server" application (registered for the grant, with its secret) may use it; it accepts the
// account's app passwords and nothing else — not the account password, with or without 2FA — and
// answers every refusal with the same `invalid_grant`; the answer is a real, short-lived opaque
// access token (introspectable, opening nothing at the API) with the account's email; refusals are
// limited per login and per client address (Dovecot's X-Dovecot-Auth-Remote). test/dovecot.test.ts
// runs the real Dovecot against it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  primaryStorageMode,
  createUser,
  createClient,
  uniqueEmail,
  type TestServer,
} from './helpers/server.ts';
import { signedInUser, enrolTotp } from './helpers/mfa.ts';
import { api } from './helpers/api.ts';
import { waitFor } from './helpers/processes.ts';
import { PASSWORD_GRANT_TOKEN_TTL } from '../src/app-passwords/password-grant.ts';

const LIMIT = 4;
const BY = { ip: '203.0.113.9', device: 'test' };

interface Client {
  clientId: string;
  clientSecret: string;
}

describe.each(primaryStorageMode())('password grant for mail servers (%s storage)', (mode) => {
  let srv: TestServer;
  let mail: Client;
  beforeAll(async () => {
    srv = await startServer({
      mode,
      env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: String(LIMIT), RATE_LIMIT_LOGIN_PER_IP: '1000' },
    });
    mail = await createClient(srv, { type: 'mail_server', name: 'Mail' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  /** What Dovecot sends: form-encoded, the secret in the body (client_secret_post). */
  async function grant(fields: Record<string, string>, client: Client = mail, headers: Record<string, string> = {}) {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ...fields,
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const login = (username: string, password: string, headers: Record<string, string> = {}) =>
    grant({ username, password }, mail, headers);
  /** A Dovecot refusal: 400 invalid_grant, the same words for every cause. */
  const REFUSED = { status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } };

  async function withAppPassword(over: Parameters<typeof createUser>[1] = {}) {
    const user = await createUser(srv, over);
    const { secret, row } = await srv.deps.appPasswords.create(user.account.id, 'Thunderbird', BY);
    return { ...user, secret, row };
  }

  it('answers a right app password with a short-lived access token and the email, nothing more', async () => {
    const email = uniqueEmail('Ada.Mixed').replace('@example.test', '@Example.TEST');
    const user = await withAppPassword({ email });
    const res = await login(email.toLowerCase(), user.secret, { 'X-Dovecot-Auth-Service': 'imap' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'email', 'expires_in', 'token_type']);
    expect(res.body.email).toBe(email.toLowerCase());
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.expires_in).toBeGreaterThan(0);
    expect(res.body.expires_in).toBeLessThanOrEqual(PASSWORD_GRANT_TOKEN_TTL);

    // A real token of the provider's: the mail server can introspect it; it names the account.
    const introspected = await fetch(`${srv.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: String(res.body.access_token), ...credentialsOf(mail) }),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(introspected).toMatchObject({ active: true, sub: user.account.id, client_id: mail.clientId });
    expect(introspected.scope).toBeUndefined();

    // It opens nothing at the REST API (no scope, no API audience).
    const profile = await api(srv, 'GET', '/1/profile', { token: String(res.body.access_token) });
    expect([401, 403]).toContain(profile.status);

    // The use is written down: the application's name and Dovecot's protocol.
    await waitFor('last use recorded', async () => {
      const [row] = await srv.deps.appPasswords.list(user.account.id);
      return row?.lastUsedService === 'Mail (imap)' ? row : undefined;
    });

    // Typed without dashes, or in capitals, the app password still works; the login in any case.
    const loose = user.secret.replace(/-/g, '').toUpperCase();
    expect((await login(email.toUpperCase(), loose)).status).toBe(200);
  });

  it('app-password.account-password-refused-with-2fa: the account password is refused, 2FA on or off', async () => {
    const withTwoFactor = await signedInUser(srv);
    await enrolTotp(withTwoFactor.agent);
    await srv.deps.appPasswords.create(withTwoFactor.account.id, 'Phone', BY);
    expect(await login(withTwoFactor.email, withTwoFactor.password)).toEqual(REFUSED);
    // Without 2FA too: this channel takes app passwords only (forward auth differs: README).
    const without = await withAppPassword();
    expect(await login(without.email, without.password)).toEqual(REFUSED);
    expect((await login(without.email, without.secret)).status).toBe(200);
  });

  it('app-password.revoked-refused: a revoked app password is refused at once, even just after a success', async () => {
    const user = await withAppPassword();
    expect((await login(user.email, user.secret)).status).toBe(200);
    await srv.deps.appPasswords.revoke(user.account.id, [user.row.id], BY);
    expect(await login(user.email, user.secret)).toEqual(REFUSED);
  });

  it('app-password.no-enumeration: wrong, unknown, locked and revoked answer alike', async () => {
    const user = await withAppPassword();
    const wrong = await login(user.email, 'abcd-efgh-jkmn-pqrs');
    const unknown = await login(uniqueEmail('nobody'), user.secret);
    const garbage = await login(user.email, 'not an app password at all');
    expect(wrong).toEqual(REFUSED);
    expect(unknown).toEqual(REFUSED);
    expect(garbage).toEqual(REFUSED);
    const locked = await withAppPassword();
    await srv.deps.repos.accounts.lock(locked.account.id, new Date());
    expect(await login(locked.email, locked.secret)).toEqual(REFUSED);
  });

  it('refuses a client not registered for the grant with unauthorized_client', async () => {
    const user = await withAppPassword();
    const web = await createClient(srv, { type: 'web', name: 'Blog' });
    const service = await createClient(srv, { type: 'service', name: 'Cron' });
    for (const client of [web, service]) {
      const res = await grant({ username: user.email, password: user.secret }, client);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unauthorized_client');
    }
    // A public client (no secret) neither.
    const spa = await createClient(srv, { type: 'spa', name: 'App' });
    const res = await grant(
      { username: user.email, password: user.secret },
      { clientId: spa.clientId, clientSecret: '' },
    );
    expect(res.body.error).toBe('unauthorized_client');
    // The mail server's own secret, wrong: the client is not authenticated.
    const bad = await grant({ username: user.email, password: user.secret }, { ...mail, clientSecret: 'nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    // The other grants of other clients are as before.
    const cc = await grant({ grant_type: 'client_credentials' }, service);
    expect(cc.status).toBe(200);
  });

  it('answers invalid_request when the username or the password is missing', async () => {
    const cases: Record<string, string>[] = [
      { username: 'a@example.test' },
      { password: 'x' },
      {},
      { username: '', password: '' },
    ];
    for (const fields of cases) {
      const res = await grant(fields);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    const twice = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=a&username=b&password=x&client_id=${mail.clientId}&client_secret=${mail.clientSecret}`,
    });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('advertises the grant in the discovery document', async () => {
    const discovery = (await fetch(`${srv.url}/.well-known/openid-configuration`).then((r) => r.json())) as {
      grant_types_supported: string[];
    };
    expect(discovery.grant_types_supported).toContain('password');
  });

  it("app-password.brute-force-throttled: past one login's limit its guesses are refused unchecked (no argon2), while its owner's right app password still works", async () => {
    const user = await withAppPassword();
    // Guesses from many client addresses (as Dovecot tells them): the per-login limit still counts.
    for (let i = 0; i < LIMIT; i++)
      expect(await login(user.email, 'wxyz-wxyz-wxyz-wxyz', remote(`198.51.100.${i + 1}`))).toEqual(REFUSED);
    const runs = srv.deps.password.verifications.dummy + srv.deps.password.verifications.real;
    expect(await login(user.email, 'wxyz-wxyz-wxyz-wxyy', remote('198.51.100.99'))).toEqual(REFUSED);
    expect(srv.deps.password.verifications.dummy + srv.deps.password.verifications.real).toBe(runs);
    // Strangers' guesses do not cut the owner's mail client off: an app password cannot be guessed.
    expect((await login(user.email, user.secret, remote('192.0.2.50'))).status).toBe(200);
  });

  it('limits refusals per client address as Dovecot reports it, not per mail server', async () => {
    const limited = await startServer({
      mode,
      env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000', RATE_LIMIT_LOGIN_PER_IP: String(LIMIT) },
    });
    try {
      const server = await createClient(limited, { type: 'mail_server', name: 'Mail' });
      const user = await createUser(limited);
      const { secret } = await limited.deps.appPasswords.create(user.account.id, 'Phone', BY);
      const post = (username: string, password: string, ip: string) =>
        fetch(`${limited.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...remote(ip) },
          body: new URLSearchParams({ grant_type: 'password', username, password, ...credentialsOf(server) }),
        }).then((r) => r.status);
      for (let i = 0; i < LIMIT; i++) expect(await post(uniqueEmail('guess'), 'wrong', '198.51.100.77')).toBe(400);
      // The guessing address is refused, right password or not; another user of the same mail server is not.
      expect(await post(user.email, secret, '198.51.100.77')).toBe(400);
      expect(await post(user.email, secret, '[2001:db8::5]')).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

function credentialsOf(client: Client) {
  return { client_id: client.clientId, client_secret: client.clientSecret };
}
/** Dovecot's send_auth_headers: the IMAP client's address and port ("[2001:db8::5]:40000" for IPv6). */
function remote(ip: string) {
  return { 'X-Dovecot-Auth-Remote': `${ip}:40000` };
}
