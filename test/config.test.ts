// Configuration: what production refuses, what the dev default generates, and SMTP.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { startServer, createUser, createClient } from './helpers/server.ts';
import { Agent } from './helpers/agent.ts';
import { loadConfig, ConfigError } from '../src/config.ts';

const run = promisify(execFile);

const BIN = path.resolve('src/bin/sesame.js');

describe('configuration', () => {
  it('config.production-refuses-dev-defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cfg-'));
    try {
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dir });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('COOKIE_SECRETS');
      expect(msg).toContain('ENCRYPTION_KEY');
      expect(msg).toContain('ISSUER');
    }
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dir,
        ISSUER: 'https://id.example',
        COOKIE_SECRETS: 'changeme',
        ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
      }),
    ).toThrow(/placeholder/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dir,
        ISSUER: 'http://id.example',
        COOKIE_SECRETS: 'x'.repeat(40),
        ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
      }),
    ).toThrow(/https/);
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(/PORT[\s\S]*DATABASE_URL/);
    expect(() => loadConfig({ KEYS_REFRESH_SECONDS: '0' })).toThrow(/KEYS_REFRESH_SECONDS/);
    expect(loadConfig({ DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cfg-')) }).keysRefreshSeconds).toBe(60);
    const secrets = {
      NODE_ENV: 'production',
      DATA_DIR: dir,
      ISSUER: 'https://id.example/',
      COOKIE_SECRETS: 'x'.repeat(40),
      ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    };
    // production.outbox-refused: reset links and SMS codes must not end up in a file by accident.
    expect(() => loadConfig(secrets)).toThrow(/SMTP_URL: required[\s\S]*SMS_GATEWAY_URL: required/);
    expect(loadConfig({ ...secrets, ALLOW_OUTBOX: 'true' }).allowOutbox).toBe(true);
    const ok = loadConfig({
      ...secrets,
      SMTP_URL: 'smtp://mail.example:587',
      SMS_GATEWAY_URL: 'https://sms.example/send',
    });
    expect(ok.issuer).toBe('https://id.example');
    expect(Object.isFrozen(ok)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'secrets.json'))).toBe(false);
  });

  it('the dev default generates its secrets once under DATA_DIR and keeps them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-cfg-'));
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.encryptionKey.equals(b.encryptionKey)).toBe(true);
    expect(a.cookieSecrets).toEqual(b.cookieSecrets);
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o077).toBe(0);
  });

  it('a production start without secrets stops with a clear message', async () => {
    const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'production' };
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'COOKIE_SECRETS', 'ENCRYPTION_KEY', 'ISSUER']) delete env[k];
    const err = await run('node', [BIN, 'serve'], { env }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('COOKIE_SECRETS: required with NODE_ENV=production');
  });
});

describe('smtp', () => {
  it("SMTP_URL sends every email through SMTP, plain text and HTML, in the user's language", async () => {
    const { SMTPServer } = await import('smtp-server');
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => {
          raw += c.toString('utf8');
        });
        stream.on('end', () => {
          received.push(raw);
          callback();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    const srv = await startServer({
      env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Sesame <id@example.test>' },
    });
    try {
      const { account, email } = await createUser(srv, { locale: 'it' });
      await srv.deps.repos.accounts.update(account.id, { lockoutThreshold: 3 });
      const web = await createClient(srv, { type: 'web' });
      for (let i = 0; i < 3; i++) {
        const agent = new Agent(srv.url);
        const page = await agent.go(
          `/authorize?${new URLSearchParams({ client_id: web.clientId, redirect_uri: web.redirectUri, response_type: 'code', scope: 'openid' })}`,
        );
        await agent.submit(page, { email, password: `wrong ${i} password` }, '/login');
      }
      await expect.poll(() => received.length).toBe(1);
      const raw = received[0]!;
      expect(raw).toMatch(/^From: Sesame <id@example\.test>/m);
      expect(raw).toContain(`To: ${email}`);
      expect(raw).toMatch(
        /Subject: =\?UTF-8\?Q\?Il_tuo_account_Sesame_=C3=A8_bloccato\?=|Subject: Il tuo account Sesame è bloccato/,
      );
      expect(raw).toContain('multipart/alternative');
      expect(raw).toContain('text/plain');
      expect(raw).toContain('text/html');
      expect(srv.outbox()).toHaveLength(0); // SMTP replaces the outbox
    } finally {
      await srv.stop();
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });
});
