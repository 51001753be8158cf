// Security keys through HTTP with a software authenticator: registration on the Security page,
// sign-in with amr hwk, and each forged field refused — origin, RP ID, challenge, counter.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, decodeEntities, type Page } from './helpers/agent.ts';
import { signInToAccount, signedInUser, passwordStep, redeem } from './helpers/mfa.ts';
import { SoftAuthenticator } from './helpers/soft-authenticator.ts';

const optionsIn = (page: Page) => JSON.parse(decodeEntities(page.body.match(/data-options="([^"]*)"/)![1]!));
const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];

describe.each(storageModes())('webauthn (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function userWithKey() {
    const user = await signedInUser(srv);
    const { agent } = user;
    const key = new SoftAuthenticator();
    const form = await agent.go('/account/security/webauthn/new');
    const options = optionsIn(form);
    expect(options.rp.id).toBe('localhost');
    expect(options.attestation).toBe('none');
    const done = await agent.submit(
      form,
      { name: 'YubiKey 5', credential: JSON.stringify(key.register(options, srv.url)) },
      '/account/security/webauthn"',
    );
    expect(done.body).toContain('id="codes"');
    return { ...user, key };
  }

  async function secondFactorPage(email: string, password: string) {
    const { agent, page } = await passwordStep(srv, web, email, password);
    expect(page.body).toContain('data-webauthn="get"');
    return { agent, page };
  }
  const answer = (agent: Agent, page: Page, credential: unknown) =>
    agent.submit(page, { credential: JSON.stringify(credential) }, '/second-factor"');

  it('registers a named key and signs in with it: amr pwd+hwk, multi-factor acr', async () => {
    const user = await userWithKey();
    const overview = await user.agent.go('/account/security');
    expect(overview.body).toContain('YubiKey 5');
    expect(overview.body).toContain('data-type="webauthn"');
    const { agent, page } = await secondFactorPage(user.email, user.password);
    const options = optionsIn(page);
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([user.key.id]);
    const consent = await answer(agent, page, user.key.assert(options, srv.url));
    const back = await agent.submit(consent, {}, '/confirm"');
    const { claims } = await redeem(srv, web, new URL(back.url).searchParams.get('code')!);
    expect(claims.amr).toEqual(['pwd', 'hwk']);
    expect(claims.acr).toBe('urn:sesame:loa:2');
  });

  it('webauthn.wrong-origin: an assertion made for another origin or RP ID is refused; the real one still works', async () => {
    const user = await userWithKey();
    const { agent, page } = await secondFactorPage(user.email, user.password);
    const phished = await answer(agent, page, user.key.assert(optionsIn(page), 'https://sesame-login.evil.example'));
    expect(phished.status).toBe(401);
    expect(alert(phished)).toBe('Verification failed. Check the code or your key and try again.');
    const otherRp = await answer(
      agent,
      phished,
      user.key.assert(optionsIn(phished), srv.url, { rpId: 'evil.example' }),
    );
    expect(otherRp.status).toBe(401);
    const ok = await answer(agent, otherRp, user.key.assert(optionsIn(otherRp), srv.url));
    expect(ok.body).toContain('/confirm"');
  });

  it('webauthn.challenge-replay and cloned keys: a used challenge and a counter going back are refused', async () => {
    const user = await userWithKey();
    const first = await secondFactorPage(user.email, user.password);
    const assertion = user.key.assert(optionsIn(first.page), srv.url);
    // A stale challenge (from this page, then replaced by a new page) is refused.
    const second = await secondFactorPage(user.email, user.password);
    const stale = await answer(
      second.agent,
      second.page,
      user.key.assert(optionsIn(second.page), srv.url, { challenge: optionsIn(first.page).challenge }),
    );
    expect(stale.status).toBe(401);
    // The valid assertion works once; replaying it (same challenge) in the next round fails.
    expect((await answer(first.agent, first.page, assertion)).body).toContain('/confirm"');
    const third = await secondFactorPage(user.email, user.password);
    expect((await answer(third.agent, third.page, assertion)).status).toBe(401);
    // A counter lower than the last one seen means a cloned authenticator.
    const fourth = await secondFactorPage(user.email, user.password);
    const cloned = await answer(
      fourth.agent,
      fourth.page,
      user.key.assert(optionsIn(fourth.page), srv.url, { counter: 1 }),
    );
    expect(cloned.status).toBe(401);
  });

  it('a registration for another origin is refused and nothing is stored', async () => {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const form = await agent.go('/account/security/webauthn/new');
    const res = await agent.submit(
      form,
      {
        name: 'Evil',
        credential: JSON.stringify(new SoftAuthenticator().register(optionsIn(form), 'https://evil.example')),
      },
      '/account/security/webauthn"',
    );
    expect(res.status).toBe(400);
    expect(alert(res)).toBe('The security key could not be registered. Try again.');
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(0);
    const garbage = await agent.submit(res, { name: 'Evil', credential: '{"id":1}' }, '/account/security/webauthn"');
    expect(garbage.status).toBe(400);
  });
});

describe('webauthn with an IP-address issuer', () => {
  let srv: TestServer;
  let issuer: string;
  const logs: string[] = [];
  beforeAll(async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    issuer = `http://127.0.0.1:${port}`;
    srv = await startServer({
      port,
      env: { ISSUER: issuer, LOG_LEVEL: 'warn' },
      logTo: { write: (l) => logs.push(l) },
    });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('webauthn.ip-issuer: said at start, not offered on the Security page, enrolment refused cleanly', async () => {
    expect(logs.some((l) => l.includes('security keys are off') && l.includes('"level":40'))).toBe(true);
    const user = await createUser(srv);
    const agent = new Agent(issuer);
    const overview = await signInToAccount({ ...srv, url: issuer }, agent, user.email, user.password);
    expect(overview.body).not.toContain('id="add-webauthn"');
    expect(overview.body).toContain('id="webauthn-unavailable"');
    expect(overview.body).toContain('browsers accept security keys only for a domain name');
    const page = await agent.go('/account/security/webauthn/new');
    expect(page.status).toBe(409);
    expect(page.body).toContain('Security keys cannot be used on this server');
    const csrf = overview.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const posted = await agent.go('/account/security/webauthn', {
      method: 'POST',
      form: { _csrf: csrf, name: 'Key', credential: '{}' },
    });
    expect(posted.status).toBe(409);
    expect(await srv.deps.repos.secondFactors.list(user.account.id, 'webauthn')).toEqual([]);
  });
});
