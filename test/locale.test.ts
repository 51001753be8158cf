// One language per sign-in and per page: the account's setting once known, then the language this
// browser chose with the switcher, then ui_locales, then Accept-Language. Every status has a page
// of its own in that language.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, decodeEntities } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';

describe('locale', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer();
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid email', ...extra })}`;

  it("i18n.one-locale-per-sign-in: once the account is known, every page of the sign-in is in the account's language", async () => {
    const user = await createUser(srv, { locale: 'fr' });
    const agent = new Agent(srv.url, { 'accept-language': 'en-GB,en;q=0.9' });
    const login = await agent.go(authorizeUrl());
    expect(login.body).toContain('<html lang="en">');
    const consent = await agent.submit(login, { email: user.email, password: user.password }, '/login');
    expect(consent.body).toContain('/confirm"');
    expect(consent.body).toContain('<html lang="fr">');
    expect(consent.body).toContain('Autoriser');
  });

  it('i18n.language-switcher: a public page offers every language; the choice is kept and wins over ui_locales', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'en' });
    const signup = await agent.go('/signup');
    const links = [...signup.body.matchAll(/<a href="(\/language\?[^"]+)" lang="(\w+)"/g)];
    expect(links.map((m) => m[2])).toEqual(['en', 'fr', 'de', 'it', 'es']);
    const de = decodeEntities(links.find((m) => m[2] === 'de')![1]!);
    const res = await agent.request(de);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/signup');
    expect((await agent.go('/signup')).body).toContain('<html lang="de">');
    // An RP's ui_locales does not override what the user picked here.
    expect((await agent.go(authorizeUrl({ ui_locales: 'it' }))).body).toContain('<html lang="de">');
  });

  it('i18n.language-switcher-no-open-redirect: the way back stays on this site', async () => {
    const agent = new Agent(srv.url);
    for (const back of [
      '//evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      '/%0d%0aSet-Cookie:x=1',
      '/.//evil.example/x',
      '/..//evil.example',
      '/%2e%2e//evil.example',
    ]) {
      const res = await agent.request(`/language?${new URLSearchParams({ set: 'fr', back })}`);
      expect(res.status).toBe(303);
      const location = res.headers.get('location')!;
      expect(new URL(location, srv.url).origin).toBe(srv.url);
    }
  });

  it('i18n.account-pages-follow-the-profile: account pages have no switcher, they use the profile language', async () => {
    const user = await createUser(srv, { locale: 'it' });
    const agent = new Agent(srv.url, { 'accept-language': 'es' });
    const page = await signInToAccount(srv, agent, user.email, user.password, '/account/profile');
    expect(page.body).toContain('<html lang="it">');
    expect(page.body).not.toContain('/language?');
  });

  it('i18n.protocol-errors-translated: an unknown client is explained in the browser language, details for developers apart', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'de' });
    const page = await agent.go(
      `/authorize?${new URLSearchParams({ client_id: 'no-such-client', redirect_uri: 'https://x.example/cb', response_type: 'code', scope: 'openid' })}`,
    );
    expect(page.status).toBe(400);
    expect(page.body).toContain('<html lang="de">');
    const message = decodeEntities(page.body.match(/id="error-message">([^<]*)</)![1]!);
    expect(message).toBe('Diese Website ist bei Sesame nicht registriert, oder ihre Registrierung hat sich geändert.');
    expect(page.body).toMatch(
      /<details><summary>Details für die Entwickler der Website<\/summary><p class="hint" lang="en" id="error-description">/,
    );
  });

  it('pages.get-on-form-address-styled: GET on a POST-only address is our own page with a way back, not bare "Method Not Allowed"', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'es' });
    const res = await agent.request('/account/security/totp');
    expect(res.status).toBe(405);
    const body = await res.text();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(body).toContain('<link rel="stylesheet" href="/static/sesame.css">');
    expect(body).toContain('<html lang="es">');
    expect(decodeEntities(body.match(/id="error-message">([^<]*)</)![1]!)).toContain(
      'Esta dirección solo acepta formularios',
    );
    expect(body).toContain('href="/account/security" id="error-back"');

    const missing = await agent.request('/no/such/page');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('<link rel="stylesheet" href="/static/sesame.css">');
  });

  it("i18n.error-page-in-account-language: an unknown address or method under /account speaks the signed-in account's language", async () => {
    const user = await createUser(srv, { locale: 'fr' });
    const agent = new Agent(srv.url, { 'accept-language': 'en' });
    await signInToAccount(srv, agent, user.email, user.password, '/account/profile');
    const get = await agent.go('/account/security/totp');
    expect(get.status).toBe(405);
    expect(get.body).toContain('<html lang="fr">');
    const missing = await agent.go('/account/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('<html lang="fr">');
  });

  it('pages.provider-404-styled: an address or method the provider does not serve gets our page, not bare "Not Found"', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'fr' });
    for (const path of ['/token', '/.well-known/nope']) {
      const res = await agent.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
      const body = await res.text();
      expect(body).toContain('<link rel="stylesheet" href="/static/sesame.css">');
      expect(body).toContain('<html lang="fr">');
    }
    const json = await agent.request('/token', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(((await json.json()) as { error: string }).error).toBe('not_found');
  });

  it('lockout.unlock-clears-rate-limit: once unlocked, the owner signs in at once, not after the rate-limit window', async () => {
    const limited = await startServer({ env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: '3' } });
    try {
      const app = await createClient(limited, { type: 'web' });
      const url = `/authorize?${new URLSearchParams({ client_id: app.clientId, redirect_uri: app.redirectUri, response_type: 'code', scope: 'openid' })}`;
      const user = await createUser(limited);
      await limited.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
      const tryPassword = async (password: string) => {
        const agent = new Agent(limited.url);
        return agent.submit(await agent.go(url), { email: user.email, password }, '/login');
      };
      for (let i = 0; i < 4; i++) await tryPassword(`wrong guess ${i}`);
      expect((await tryPassword(user.password)).body).toContain('Too many attempts');
      expect(await limited.deps.lockout.unlock(user.account.id, 'cli')).toBe(true);
      expect((await tryPassword(user.password)).body).toContain('/confirm"');
    } finally {
      await limited.stop();
    }
  });
});
