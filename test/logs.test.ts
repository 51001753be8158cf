// log.secret-leak: the embedded outbox keeps emails and text messages in files (mode 600), but the
// log — which goes to log collectors and support tickets — never carries a link token or a code,
// at any level.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startServer, createUser, type TestServer } from './helpers/server.ts';
import { Agent } from './helpers/agent.ts';
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
});
