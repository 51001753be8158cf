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
    for (const back of ['//evil.example/', 'https://evil.example/', '/\\evil.example', '/%0d%0aSet-Cookie:x=1']) {
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
});
