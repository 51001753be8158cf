// The consent page as an attacker's application would use it: a name chosen to look official must
// not be enough to fool a user; the user sees who is signed in, where they will be sent, and that an
// ordinary user registered the application.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, decodeEntities, pkcePair, type Page } from './helpers/agent.ts';
import { redeem } from './helpers/mfa.ts';

describe('consent', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function consentFor(
    agent: Agent,
    clientId: string,
    redirectUri: string,
    email: string,
    password: string,
    extra: Record<string, string> = {},
  ) {
    const q = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid email',
      state: 's1',
      ...extra,
    });
    const login = await agent.go(`/authorize?${q}`);
    const page = await agent.submit(login, { email, password }, '/login');
    expect(page.body).toContain('/confirm"');
    return page;
  }
  const text = (p: Page, id: string) => decodeEntities(p.body.match(new RegExp(`id="${id}"[^>]*>([^<]*)<`))?.[1] ?? '');

  it('consent.phishing-by-app-name: the page names the signed-in account, the host the user is sent to, and marks a user-registered app', async () => {
    const attacker = await createUser(srv);
    const { app } = await srv.deps.applications.create(attacker.account.id, {
      name: 'Sesame Security Team',
      type: 'spa',
      redirectUris: ['https://evil.example/callback'],
      postLogoutRedirectUris: [],
      backchannelLogoutUri: null,
    });
    const victim = await createUser(srv, { locale: 'fr' });
    const page = await consentFor(
      new Agent(srv.url),
      app.clientId,
      'https://evil.example/callback',
      victim.email,
      victim.password,
      { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' },
    );
    expect(text(page, 'signed-in-as')).toBe(`Connecté en tant que ${victim.email}.`);
    expect(text(page, 'redirect-host')).toContain('evil.example');
    expect(text(page, 'user-registered')).toContain('enregistrée par un utilisateur de Sesame');
    expect(page.body).toContain('/switch-account"');
  });

  it('consent.operator-app-not-marked: an application the operator registered carries no warning', async () => {
    const web = await createClient(srv, { type: 'web' });
    const user = await createUser(srv);
    const page = await consentFor(new Agent(srv.url), web.clientId, web.redirectUri, user.email, user.password);
    expect(text(page, 'redirect-host')).toBe('If you allow, you will be sent to rp.example.');
    expect(page.body).not.toContain('id="user-registered"');
  });

  it('consent.not-you-switches-account: "Not you?" ends this session and the same request signs in someone else', async () => {
    const web = await createClient(srv, { type: 'web' });
    const first = await createUser(srv);
    const second = await createUser(srv);
    const agent = new Agent(srv.url);
    const consent = await consentFor(agent, web.clientId, web.redirectUri, first.email, first.password);
    const login = await agent.submit(consent, {}, '/switch-account"');
    expect(login.status).toBe(200);
    expect(login.body).toContain('/login"');
    const again = await agent.submit(login, { email: second.email, password: second.password }, '/login');
    expect(text(again, 'signed-in-as')).toBe(`Signed in as ${second.email}.`);
    const back = await agent.submit(again, {}, '/confirm"');
    const redirect = new URL(back.url);
    expect(redirect.origin + redirect.pathname).toBe(web.redirectUri);
    expect(redirect.searchParams.get('state')).toBe('s1');
    const { claims } = await redeem(srv, web, redirect.searchParams.get('code')!);
    expect(claims.sub).toBe(second.account.id);
    // The first account's session in this browser is gone.
    expect((await srv.deps.sessions.list(first.account.id)).length).toBe(0);
  });
});
