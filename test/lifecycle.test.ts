// Starting and stopping like a service, with real `sesame serve` processes on a PostgreSQL and a
// Redis of this file's own: an unreachable dependency at start is retried with one clear line per
// attempt (never a silent hang, never a stack trace), and SIGTERM drains within a bounded time even
// with idle keep-alive clients, an open kAuth event stream and a request in flight.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { DeviceClient } from '../src/kauth/device-client.ts';
import { Agent, decodeEntities, findForm } from './helpers/agent.ts';
import {
  freePort,
  privateDeployment,
  privateRedis,
  startNode,
  waitFor,
  type PrivateDeployment,
  privateServicesMissing,
} from './helpers/processes.ts';
import { STRONG_PASSWORD, uniqueEmail } from './helpers/server.ts';

let deployment: PrivateDeployment;
let env: Record<string, string>;

const cli = (args: string[]) => deployment.cli(args, env);

beforeAll(async () => {
  if (privateServicesMissing) return;
  deployment = await privateDeployment('lifecycle');
  env = deployment.env;
}, 120_000);

afterAll(async () => {
  await deployment?.destroy();
});

/** No stack frames in what a process printed. */
const noStackTrace = (output: string) => expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe.skipIf(privateServicesMissing)(
  `start${privateServicesMissing ? ` (skipped: ${privateServicesMissing})` : ''}`,
  () => {
    it('startup.unreachable-postgres-retries-then-exits-clearly: one line per attempt, then a clear failure, no stack trace', async () => {
      const port = await freePort(); // nothing listens there
      const node = await startNode({
        env: {
          ...env,
          DATABASE_URL: `postgres://postgres:secret-pw@127.0.0.1:${port}/sesame`,
          STARTUP_WAIT_SECONDS: '2',
        },
        noWait: true,
      });
      const { code } = await node.exited();
      expect(code).toBe(1);
      const retries = node.logs().filter((l) => l.msg === `PostgreSQL at 127.0.0.1:${port} unreachable; retrying`);
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(retries[0]).toMatchObject({ reason: 'ECONNREFUSED', attempt: 1 });
      const fatal = node.logs().find((l) => l.level === 60);
      expect(fatal?.msg).toMatch(
        new RegExp(`PostgreSQL at 127.0.0.1:${port} unreachable \\(ECONNREFUSED\\); gave up after \\d+ attempts`),
      );
      noStackTrace(node.output());
      expect(node.output()).not.toContain('secret-pw');
    });

    it('startup.waits-for-redis: a node started before Redis retries, then serves once Redis is up', async () => {
      const late = await privateRedis();
      await late.stop();
      const node = await startNode({ env: { ...env, REDIS_URL: late.url, STARTUP_WAIT_SECONDS: '60' }, noWait: true });
      try {
        await node.waitForLog(new RegExp(`^Redis at 127.0.0.1:${late.port} unreachable; retrying$`));
        expect((await fetch(`${node.url}/livez`).catch(() => undefined))?.status).toBeUndefined(); // not listening yet
        await late.start();
        await node.waitForLog(/^Sesame listening/, 30_000);
        expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
        expect(node.logs().some((l) => l.msg === `Redis at 127.0.0.1:${late.port} reachable`)).toBe(true);
      } finally {
        await node.stop('SIGKILL');
        await late.destroy();
      }
    });

    it('startup.bad-config-lists-every-problem: every bad variable at once, exit code 2', async () => {
      const node = await startNode({
        env: { ...env, NODE_ENV: 'production', PORT: 'eighty', LOG_LEVEL: 'loud', SHUTDOWN_DRAIN_SECONDS: '0' },
        noWait: true,
      });
      expect((await node.exited()).code).toBe(2);
      const out = node.output();
      for (const v of [
        'PORT',
        'LOG_LEVEL',
        'SHUTDOWN_DRAIN_SECONDS',
        'COOKIE_SECRETS',
        'ENCRYPTION_KEY',
        'ISSUER',
        'SMTP_URL',
      ])
        expect(out).toContain(`  - ${v}:`);
      noStackTrace(out);
    });
  },
);

/** Links a reference kAuth device to a new account, the way the Security page does. */
async function linkedDevice(url: string) {
  const email = uniqueEmail('drain');
  await cli(['user', 'create', '--email', email, '--password', STRONG_PASSWORD, '--name', 'Ada Lovelace']);
  const agent = new Agent(url);
  const login = await agent.go('/account/security/push/new');
  const page = await agent.submit(login, { email, password: STRONG_PASSWORD }, '/login');
  expect(page.url).toBe(`${url}/account/security/push/new`);
  const enrolment = decodeEntities(page.body.match(/<code id="enrolment-url">([^<]+)<\/code>/)![1]!);
  return { device: await DeviceClient.link(enrolment, 'Pixel 9'), agent, email };
}

describe.skipIf(privateServicesMissing)(
  `stop${privateServicesMissing ? ` (skipped: ${privateServicesMissing})` : ''}`,
  () => {
    it('shutdown.drains-in-bounded-time: SIGTERM with idle keep-alive clients, an event stream and a request in flight', async () => {
      // A slow password hash keeps a sign-in in flight while the signal arrives.
      const metricsPort = await freePort();
      const slow = { ...env, ARGON2_TIME_COST: '40', METRICS_PORT: String(metricsPort) };
      const node = await startNode({ env: slow });
      // METRICS_PORT: /metrics without a token on a listener of its own, and nothing else there.
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^sesame_nodejs_eventloop_lag_seconds \d/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/livez`)).status).toBe(404);
      expect((await fetch(`${node.url}/metrics`)).status).toBe(404);
      const { device, email } = await (async () => {
        const saved = env;
        env = slow;
        try {
          return await linkedDevice(node.url);
        } finally {
          env = saved;
        }
      })();

      // An open event stream.
      const events: string[] = [];
      let streamEnded = false;
      const watching = device.watch((e) => events.push(e)).finally(() => (streamEnded = true));
      await waitFor('the stream to open', async () => (await device.pending()) && true);

      // Idle keep-alive connections (the server would keep them 65 s).
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const sockets: Array<{ closed: boolean }> = [];
      keepAlive.on('free', (socket) => {
        if ((socket as { tracked?: boolean }).tracked) return;
        (socket as { tracked?: boolean }).tracked = true;
        const s = { closed: false };
        sockets.push(s);
        socket.once('close', () => (s.closed = true));
      });
      await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<void>((resolve, reject) =>
              http
                .get(`${node.url}/livez`, { agent: keepAlive }, (res) => {
                  res.resume();
                  res.on('end', () => resolve());
                })
                .on('error', reject),
            ),
        ),
      );
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.every((s) => !s.closed)).toBe(true);

      // A sign-in in flight (its password hash takes a while).
      const browser = new Agent(node.url);
      const login = await browser.go('/account');
      const form = findForm(login.body, '/login');
      const inFlight = browser.request(new URL(form.action, login.url).href, {
        method: 'POST',
        form: { ...form.hidden, email, password: STRONG_PASSWORD },
      });
      await new Promise((r) => setTimeout(r, 150));

      const stopped = node.stop('SIGTERM');
      const answer = await inFlight;
      expect([200, 302, 303]).toContain(answer.status); // finished, not cut
      const { code, ms } = await stopped;
      expect(code).toBe(0);
      expect(ms).toBeLessThanOrEqual(10_000);
      console.log(`shutdown: exited ${ms} ms after SIGTERM`);
      await watching.catch(() => {});
      expect(streamEnded).toBe(true);
      expect(sockets.every((s) => s.closed)).toBe(true);
      keepAlive.destroy();
      expect(node.logs().some((l) => l.msg === 'shutting down')).toBe(true);
      // log.json-only: everything the node printed, libraries' notices included, is a JSON line.
      const printed = node
        .output()
        .split('\n')
        .filter((l) => l.trim());
      expect(printed.length).toBeGreaterThan(3);
      expect(printed.filter((l) => !/^\{.*\}$/.test(l))).toEqual([]);
      expect(node.logs().some((l) => /drain time is up/.test(l.msg))).toBe(false);
    });
  },
);
