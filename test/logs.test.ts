// log.secret-leak: the embedded outbox keeps emails and text messages in files (mode 600), but the
// log — which goes to log collectors and support tickets — never carries a link token or a code,
// at any level.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startServer, createUser, type TestServer } from './helpers/server.ts';
import { Agent, findForm } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';

describe('logs', () => {
  const lines: string[] = [];
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({
      env: { LOG_LEVEL: 'trace', REAUTH_WINDOW_SECONDS: '300' },
      logTo: { write: (l) => void lines.push(l) },
    });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('log.secret-leak: reset links and SMS codes are never logged', async () => {
    const user = await createUser(srv);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
    const browser = new Agent(srv.url);
    await browser.submit(await browser.go('/forgot-password'), { email: user.email }, '/forgot-password"');
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const form = await agent.go('/account/security/sms/new');
    const sent = await agent.submit(
      form,
      { name: 'Phone', country: 'CH', phone: '079 123 45 67' },
      '/account/security/sms"',
    );
    expect(sent.status).toBe(200);

    const mails = srv.outbox().filter((m) => m.to === user.email);
    const secrets = [
      ...mails.flatMap((m) => [...m.text.matchAll(/token=([\w-]+)/g)].map((x) => x[1]!)),
      ...srv.smsOutbox().flatMap((s) => [...s.text.matchAll(/\b(\d{6})\b/g)].map((x) => x[1]!)),
    ];
    expect(mails.map((m) => m.kind)).toContain('password_reset');
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const log = lines.join('');
    // The log did record that the messages were written, just not what they say.
    expect(log).toContain('email written to outbox');
    expect(log).toContain('SMS written to outbox');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });

  it('log.request-id: every answer has an X-Request-Id, and the lines logged for that request carry it', async () => {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    const page = await agent.go('/forgot-password');
    const form = findForm(page.body, '/forgot-password"');
    // A client's own X-Request-Id is not believed without a trusted proxy in front.
    const answer = await agent.request(new URL(form.action, page.url).href, {
      method: 'POST',
      form: { ...form.hidden, email: user.email },
      headers: { 'x-request-id': 'chosen-by-the-client' },
    });
    expect(answer.status).toBe(200);
    const id = answer.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(page.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(page.headers.get('x-request-id')).not.toBe(id);
    await srv.drained();
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; to?: string; reqId?: string });
    // The email is sent after the answer, and its line still names the request it was sent for.
    const sent = logged.find((l) => l.msg === 'email written to outbox' && l.to === user.email);
    expect(sent?.reqId).toBe(id);
    // Provider endpoints too.
    const discovery = await fetch(`${srv.url}/.well-known/openid-configuration`);
    expect(discovery.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("log.request-id: behind a trusted proxy the proxy's id is kept, a malformed one replaced", async () => {
    const behind = await startServer({ env: { TRUST_PROXY: 'true' } });
    try {
      const ask = (id: string) =>
        fetch(`${behind.url}/healthz`, { headers: { 'x-request-id': id } }).then((r) => r.headers.get('x-request-id'));
      expect(await ask('nginx-5f2b9c0e1d')).toBe('nginx-5f2b9c0e1d');
      for (const bad of ['short', 'has space in it', 'x'.repeat(129), 'semi;colon-12345'])
        expect(await ask(bad)).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await behind.stop();
    }
  });
});
