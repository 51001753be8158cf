// App passwords at a real IMAP server (issue 14 item 3, "How it will be checked"): Debian's Dovecot 2.3
// (dovecot-imapd), unmodified, started here on loopback with the README's configuration — its built-in
// `oauth2` passdb asking Sesame's /token with the password grant, as a "Mail server" application — and
// Python's imaplib logging in as a mail client does. An app password is LOGIN OK; the account password
// (2FA on or off), a wrong, unknown or revoked one is NO.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, primaryStorageMode, createUser, createClient, type TestServer } from './helpers/server.ts';
import { signedInUser, enrolTotp } from './helpers/mfa.ts';
import { freePort, waitFor } from './helpers/processes.ts';

const DOVECOT = '/usr/sbin/dovecot';
const BY = { ip: '127.0.0.1', device: 'test' };
const README = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');

const missing = [DOVECOT, '/usr/bin/python3'].find((bin) => !fs.existsSync(bin));

/** The README's two Dovecot snippets: 10-auth.conf's passdb/userdb and dovecot-oauth2.conf.ext. */
function readmeSnippets(): { auth: string; oauth2: string } {
  const section = README.slice(README.indexOf('### Dovecot'));
  const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const auth = blocks.find((b) => b.includes('driver = oauth2'));
  const oauth2 = blocks.find((b) => b.includes('use_grant_password'));
  if (!auth || !oauth2) throw new Error('the README has no Dovecot configuration');
  return { auth, oauth2 };
}

/** imaplib's LOGIN, as a mail client sends it, from the loopback address `from`: "OK OK" (logged in,
 *  INBOX selected) or "NO" with Dovecot's words. */
function imapLogin(port: number, login: string, password: string, from = '127.0.0.1'): Promise<string> {
  const script = `
import imaplib, socket, sys
class Client(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(sys.argv[4], 0))
m = Client("127.0.0.1", int(sys.argv[1]))
try:
    typ, data = m.login(sys.argv[2], sys.argv[3])
    typ, data = m.select("INBOX")
    print("OK", typ)
    m.logout()
except imaplib.IMAP4.error as e:
    print("NO", e)
`;
  return new Promise((resolve, reject) =>
    execFile(
      '/usr/bin/python3',
      ['-c', script, String(port), login, password, from],
      { timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim())),
    ),
  );
}

describe.skipIf(missing).each(primaryStorageMode())('Dovecot with the oauth2 passdb (%s storage)', (mode) => {
  let srv: TestServer;
  let dir: string;
  let port: number;
  let dovecot: ChildProcess | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    srv = await startServer({ mode });
    const mail = await createClient(srv, { type: 'mail_server', name: 'Mail' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-dovecot-'));
    port = await freePort();
    const { auth, oauth2 } = readmeSnippets();
    // The README's oauth2 file, pointed at this server (plain HTTP on loopback: no CA file needed).
    fs.writeFileSync(
      path.join(dir, 'dovecot-oauth2.conf.ext'),
      oauth2
        .replace('https://login.example.com/token', `${srv.url.replace('localhost', '127.0.0.1')}/token`)
        .replace("<the mail server application's client ID>", mail.clientId)
        .replace('<its client secret>', mail.clientSecret)
        .replace(/^tls_ca_cert_file.*$/m, ''),
    );
    // Mail lives in the test's directory, owned by whoever runs the tests (root in CI: then `nobody`).
    const mailDir = path.join(dir, 'mail');
    fs.mkdirSync(mailDir, { mode: 0o777 });
    fs.chmodSync(mailDir, 0o777);
    fs.chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const uid = asRoot ? 'nobody' : String(process.getuid?.());
    const gid = asRoot ? 'nogroup' : String(process.getgid?.());
    const passdbUserdb = auth
      .replace('args = /etc/dovecot/dovecot-oauth2.conf.ext', `args = ${dir}/dovecot-oauth2.conf.ext`)
      .replace('args = uid=vmail gid=vmail home=/var/mail/%u', `args = uid=${uid} gid=${gid} home=${mailDir}/%u`);
    const user = os.userInfo().username;
    fs.writeFileSync(
      path.join(dir, 'dovecot.conf'),
      `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_verbose = yes
mail_location = maildir:~/Maildir
${asRoot ? '' : `default_internal_user = ${user}\ndefault_login_user = ${user}\ndefault_internal_group = ${gid}\n`}
first_valid_uid = 0
# Test speed only: Dovecot's own 2 s delay after a failed login is off (its growing delay per client
# address stays: each refusal below comes from an address of its own).
auth_failure_delay = 0
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
${passdbUserdb}
`,
    );
    dovecot = spawn(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    dovecot.stdout?.on('data', (d) => logs.push(String(d)));
    dovecot.stderr?.on('data', (d) => logs.push(String(d)));
    await waitFor('Dovecot to listen', async () => {
      const log = fs.existsSync(path.join(dir, 'dovecot.log'))
        ? fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8')
        : '';
      if (dovecot?.exitCode !== null) throw new Error(`Dovecot exited: ${logs.join('')}${log}`);
      return log.includes('starting up');
    });
  }, 60_000);
  afterAll(async () => {
    if (dovecot && dovecot.exitCode === null) {
      dovecot.kill('SIGTERM');
      await new Promise((r) => dovecot?.once('exit', r));
    }
    await srv?.stop();
    if (dir) {
      try {
        execFileSync('rm', ['-rf', dir]);
      } catch {
        /* best effort */
      }
    }
  });

  const dovecotLog = () => fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8');

  it('app-password.accepted-by-dovecot: LOGIN with the email and an app password opens the mailbox', async () => {
    const u = await signedInUser(srv);
    await enrolTotp(u.agent);
    const { secret } = await srv.deps.appPasswords.create(u.account.id, 'Thunderbird', BY);
    expect(await imapLogin(port, u.email, secret, '127.0.9.7')).toBe('OK OK');
    // As typed on a phone: upper case, no dashes.
    expect(await imapLogin(port, u.email, secret.replace(/-/g, '').toUpperCase(), '127.0.9.7')).toBe('OK OK');
    // The last use names the mail server application and IMAP, and the client's address, which
    // Dovecot passed on.
    const [row] = await srv.deps.appPasswords.list(u.account.id);
    expect(row).toMatchObject({ lastUsedIp: '127.0.9.7', lastUsedService: 'Mail (imap)' });
  });

  it('app-password.account-password-refused-with-2fa: the account password is NO, 2FA on or off', async () => {
    const u = await signedInUser(srv);
    await enrolTotp(u.agent);
    await srv.deps.appPasswords.create(u.account.id, 'Thunderbird', BY);
    expect(await imapLogin(port, u.email, u.password, '127.0.10.1')).toMatch(/^NO .*AUTHENTICATIONFAILED/);
    // Without 2FA too: a mail server never sees the account password accepted.
    const plain = await createUser(srv);
    expect(await imapLogin(port, plain.email, plain.password, '127.0.10.2')).toMatch(/^NO .*AUTHENTICATIONFAILED/);
  });

  it('app-password.revoked-refused: revoked, wrong or unknown is NO', async () => {
    const u = await signedInUser(srv);
    await enrolTotp(u.agent);
    const { secret, row } = await srv.deps.appPasswords.create(u.account.id, 'Thunderbird', BY);
    expect(await imapLogin(port, u.email, secret)).toBe('OK OK');
    await srv.deps.appPasswords.revoke(u.account.id, [row.id], BY);
    expect(await imapLogin(port, u.email, secret, '127.0.10.3')).toMatch(/^NO .*AUTHENTICATIONFAILED/);
    expect(await imapLogin(port, u.email, 'abcd-efgh-jkmn-pqrs', '127.0.10.4')).toMatch(/^NO .*AUTHENTICATIONFAILED/);
    expect(await imapLogin(port, 'nobody-here@example.test', secret, '127.0.10.5')).toMatch(
      /^NO .*AUTHENTICATIONFAILED/,
    );
    // Dovecot asked Sesame each time (nothing cached on its side) and logged Sesame's refusal.
    expect(dovecotLog().match(/oauth2 failed: Password grant failed: invalid_grant/g)?.length).toBeGreaterThanOrEqual(
      3,
    );
  });
});
