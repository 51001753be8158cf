// App passwords through a real reverse proxy (issue 14 item 2, "How it will be checked"): Debian's
// nginx, unmodified, with `auth_request` asking Sesame's /auth/forward, in front of Debian's Radicale
// (a CalDAV/CardDAV server trusting the proxy's X-Remote-User), all on loopback and started here. The
// clients are real too: curl (PROPFIND, as a DAV client's first request) and python3-caldav syncing a
// calendar. The nginx configuration is the README's, with the ports filled in.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, type TestServer } from './helpers/server.ts';
import { signedInUser, enrolTotp } from './helpers/mfa.ts';
import { freePort, waitFor } from './helpers/processes.ts';

const NGINX = '/usr/sbin/nginx';
const RADICALE = '/usr/bin/radicale';
// Debian's python3 (the one python3-caldav is installed for), not whatever python3 is first on PATH.
const PYTHON = '/usr/bin/python3';
const CALDAV_CLIENT = path.join(import.meta.dirname, 'clients', 'caldav_sync.py');
const BY = { ip: '127.0.0.1', device: 'test' };

/** Why this file cannot run here (CI installs nginx-core, radicale and python3-caldav), or undefined. */
const missing = (() => {
  for (const bin of [NGINX, RADICALE, PYTHON, '/usr/bin/curl']) if (!fs.existsSync(bin)) return `${bin} is missing`;
  const probe = spawnSyncOk(PYTHON, ['-c', 'import caldav']);
  return probe ? undefined : 'python3-caldav is missing';
})();

function spawnSyncOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function nginxConf(dir: string, port: number, sesamePort: number, radicalePort: number): string {
  const tmp = path.join(dir, 'tmp');
  // One process (no master): stopping it leaves no worker behind.
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /_sesame {
      internal;
      proxy_pass http://127.0.0.1:${sesamePort}/auth/forward?realm=Calendars;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Authorization $http_authorization;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Host $host;
    }
    location / {
      auth_request /_sesame;
      auth_request_set $sesame_user $upstream_http_x_sesame_email;
      proxy_set_header X-Remote-User $sesame_user;
      proxy_pass http://127.0.0.1:${radicalePort};
    }
  }
}
`;
}

describe.skipIf(missing).each(primaryStorageMode())('nginx auth_request + Radicale (%s storage)', (mode) => {
  let srv: TestServer;
  let dir: string;
  let dav: string;
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  function start(cmd: string, args: string[]) {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => logs.push(String(d)));
    child.stderr?.on('data', (d) => logs.push(String(d)));
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    srv = await startServer({ mode, env: { TRUST_PROXY: 'true' } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-nginx-'));
    // nginx's workers run as `nobody` when the tests run as root: let them write their temp files.
    fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o777 });
    fs.chmodSync(path.join(dir, 'tmp'), 0o777);
    fs.chmodSync(dir, 0o755);
    const [port, radicalePort] = [await freePort(), await freePort()];
    const sesamePort = Number(new URL(srv.url).port);
    start(RADICALE, [
      '--config',
      '',
      '--server-hosts',
      `127.0.0.1:${radicalePort}`,
      '--auth-type',
      'http_x_remote_user',
      '--rights-type',
      'owner_only',
      '--storage-filesystem-folder',
      path.join(dir, 'collections'),
      '--logging-level',
      'warning',
    ]);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, port, sesamePort, radicalePort));
    start(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')]);
    dav = `http://127.0.0.1:${port}`;
    // Up when nginx answers (401: no credentials) and Radicale behind it accepts connections.
    await waitFor(
      'nginx and Radicale',
      async () => (await fetch(`${dav}/`, { method: 'PROPFIND' })).status === 401 && radicaleUp(radicalePort),
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs.join('')}`);
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        c.kill('SIGKILL');
      }),
    );
    await srv?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function radicaleUp(port: number): Promise<boolean> {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { method: 'OPTIONS' });
      return true;
    } catch {
      return false;
    }
  }

  /** curl's PROPFIND on the user's home collection: the status and the challenge, as a DAV client sees them. */
  async function propfind(login: string, password: string, extra: string[] = []) {
    const out = await run('/usr/bin/curl', [
      '-s',
      '-o',
      '/dev/null',
      '-D',
      '-',
      '-X',
      'PROPFIND',
      '-H',
      'Depth: 0',
      '-u',
      `${login}:${password}`,
      ...extra,
      `${dav}/${encodeURIComponent(login)}/`,
    ]);
    const status = Number(out.stdout.match(/^HTTP\/[\d.]+ (\d{3})/)?.[1]);
    const challenge = out.stdout.match(/^www-authenticate: (.*)\r?$/im)?.[1]?.trim();
    return { status, challenge };
  }

  async function caldav(login: string, password: string) {
    const out = await run(PYTHON, [CALDAV_CLIENT, `${dav}/`, login, password]);
    expect(out.stderr).toBe('');
    return JSON.parse(out.stdout) as { ok: boolean; events?: string[]; uid?: string; error?: string };
  }

  /** A user with two-step verification on (an authenticator app) and one app password. */
  async function userWithTwoFactor() {
    const user = await signedInUser(srv);
    await enrolTotp(user.agent);
    const { secret, row } = await srv.deps.appPasswords.create(user.account.id, 'Calendar on phone', BY);
    return { ...user, secret, row };
  }

  it('app-password.accepted-through-nginx: a CalDAV client syncs a calendar with an app password', async () => {
    const u = await userWithTwoFactor();
    const found = await propfind(u.email, u.secret, ['-H', 'Host: dav.example.test']);
    expect(found.status).toBe(207);
    const synced = await caldav(u.email, u.secret);
    expect(synced).toMatchObject({ ok: true });
    expect(synced.events).toEqual([`Standup ${synced.uid}`]);
    // Radicale stored it under the user nginx named from Sesame's answer (its X-Remote-User).
    expect(fs.readdirSync(path.join(dir, 'collections', 'collection-root'))).toContain(u.email);
    // The last use names the service the proxy forwarded (the Host of the first request).
    const used = await waitFor('the last use', async () => {
      const [row] = await srv.deps.appPasswords.list(u.account.id);
      return row?.lastUsedAt && row;
    });
    expect(used).toMatchObject({ lastUsedService: 'dav.example.test', lastUsedIp: '127.0.0.1' });
  });

  it('app-password.account-password-refused-with-2fa: the account password gets 401 and the Basic challenge', async () => {
    const u = await userWithTwoFactor();
    const refused = await propfind(u.email, u.password);
    expect(refused).toEqual({ status: 401, challenge: 'Basic realm="Calendars", charset="UTF-8"' });
    expect(await caldav(u.email, u.password)).toMatchObject({ ok: false, error: 'AuthorizationError' });
    // Wrong and unknown alike.
    expect((await propfind(u.email, 'abcd-efgh-jkmn-pqrs')).status).toBe(401);
    expect((await propfind('nobody-here@example.test', u.secret)).status).toBe(401);
    // A client cannot name itself to the backend: nginx replaces X-Remote-User with Sesame's answer.
    const forged = await run('/usr/bin/curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-X',
      'PROPFIND',
      '-H',
      `X-Remote-User: ${u.email}`,
      `${dav}/${encodeURIComponent(u.email)}/`,
    ]);
    expect(forged.stdout).toBe('401');
  });

  it('app-password.revoked-refused: after revoking, the proxy answers 401 at once', async () => {
    const u = await userWithTwoFactor();
    expect((await propfind(u.email, u.secret)).status).toBe(207);
    // Revoked on the Security page, as the user does it: the list links to the confirmation.
    const list = await u.agent.go('/account/security/app-passwords');
    const link = `/account/security/app-passwords/${u.row.id}/revoke`;
    expect(list.body).toContain(`href="${link}"`);
    const revoked = await u.agent.submit(await u.agent.go(link), {}, `${link}"`);
    expect(revoked.status).toBe(200);
    expect((await srv.deps.appPasswords.list(u.account.id)).length).toBe(0);
    expect(await propfind(u.email, u.secret)).toEqual({
      status: 401,
      challenge: 'Basic realm="Calendars", charset="UTF-8"',
    });
    expect(await caldav(u.email, u.secret)).toMatchObject({ ok: false, error: 'AuthorizationError' });
  });
});
