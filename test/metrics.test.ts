// Prometheus metrics (issue 15 item 5) over HTTP: /metrics answers only its bearer token (and does
// not exist without one configured), and what it says follows what happened — a sign-in, a wrong
// password, an email sent, requests by route group, PostgreSQL and store latency, event-loop lag.
// (METRICS_PORT, the listener of its own, is checked on a real `sesame serve` in lifecycle.test.ts.)
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, createUser, type TestServer } from './helpers/server.ts';
import { Agent } from './helpers/agent.ts';
import { signInToAccount } from './helpers/mfa.ts';
import { sample } from './helpers/metrics.ts';

const TOKEN = 'metrics-token-metrics-token-metrics-token';

describe.each(primaryStorageMode())('metrics (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode, env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const scrape = async () => {
    const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('metrics.scraped-without-token-refused: no token, a wrong one or another scheme gets 401', async () => {
    for (const authorization of [undefined, 'Bearer nope', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]) {
      const res = await fetch(`${srv.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain('sesame_');
    }
  });

  it('count a sign-in, a wrong password, an email and the requests, with dependency latency', async () => {
    const user = await createUser(srv);
    const before = await scrape();
    const agent = new Agent(srv.url);
    const refused = await agent.submit(await agent.go('/account'), { email: user.email, password: 'wrong' }, '/login');
    expect(refused.status).toBe(401);
    await signInToAccount(srv, agent, user.email, user.password);
    const forgot = new Agent(srv.url);
    await forgot.submit(await forgot.go('/forgot-password'), { email: user.email }, '/forgot-password"');
    await srv.drained();
    await fetch(`${srv.url}/.well-known/openid-configuration`);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('sesame_sign_ins_total', { outcome: 'success', method: 'pwd' })).toBe(1);
    expect(delta('sesame_sign_ins_total', { outcome: 'wrong_password', method: 'pwd' })).toBe(1);
    expect(delta('sesame_messages_total', { channel: 'email', outcome: 'sent' })).toBeGreaterThanOrEqual(1);
    expect(delta('sesame_http_requests_total', { group: 'discovery', status: '200' })).toBe(1);
    expect(delta('sesame_http_requests_total', { group: 'interaction', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(delta('sesame_http_request_duration_seconds_count', { group: 'discovery' })).toBe(1);
    expect(
      delta('sesame_dependency_duration_seconds_count', { dependency: 'database', outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(delta('sesame_dependency_duration_seconds_count', { dependency: 'store', outcome: 'ok' })).toBeGreaterThan(
      0,
    );
    expect(after).toMatch(/^sesame_nodejs_eventloop_lag_seconds \d/m);
    expect(after).toMatch(/^sesame_process_resident_memory_bytes \d/m);
    // A scrape counts itself, as its own group.
    expect(delta('sesame_http_requests_total', { group: 'metrics', status: '200' })).toBe(1);
  });

  it('a lockout is counted', async () => {
    const user = await createUser(srv);
    await srv.deps.repos.accounts.update(user.account.id, { lockoutThreshold: 3 });
    const before = sample(await scrape(), 'sesame_lockouts_total', { channel: 'web' });
    const agent = new Agent(srv.url);
    for (let i = 0; i < 3; i++)
      await agent.submit(await agent.go('/account'), { email: user.email, password: `wrong ${i}` }, '/login');
    expect(sample(await scrape(), 'sesame_lockouts_total', { channel: 'web' }) - before).toBe(1);
  });
});

describe('metrics without METRICS_TOKEN', () => {
  it('metrics.not-exposed-by-default: /metrics is not found on the main port', async () => {
    const srv = await startServer();
    try {
      const res = await fetch(`${srv.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('sesame_');
    } finally {
      await srv.stop();
    }
  });
});
