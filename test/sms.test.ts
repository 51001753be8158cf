// SMS codes through HTTP: which numbers are accepted, enrolment and sign-in with codes read from
// the SMS outbox, send limits per number / account / IP, attempts per code, and the HTTP gateway.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, createUser, createClient, type TestServer } from './helpers/server.ts';
import { Agent, type Page } from './helpers/agent.ts';
import { signInToAccount, redeem } from './helpers/mfa.ts';

const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];
let seq = 0;
/** A distinct valid Swiss mobile number per call. */
const swissMobile = () => `+4179${String(1_000_000 + (((Date.now() % 1_000_000) * 7 + ++seq * 7919) % 9_000_000))}`;

function lastCodeTo(srv: TestServer, e164: string): string | undefined {
  const sms = srv
    .smsOutbox()
    .filter((m) => m.to === e164)
    .at(-1);
  return sms?.text.match(/\b(\d{6})\b/)?.[1];
}

describe('sms', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    // TRUST_PROXY lets each test browser come from its own address (X-Forwarded-For).
    srv = await startServer({
      env: {
        TRUST_PROXY: 'true',
        RATE_LIMIT_SMS_PER_NUMBER: '3',
        RATE_LIMIT_SMS_PER_ACCOUNT: '4',
        RATE_LIMIT_SMS_PER_IP: '5',
      },
    });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function signedIn(ip: string, locale = 'en') {
    const user = await createUser(srv, { locale });
    const agent = new Agent(srv.url, { 'x-forwarded-for': ip });
    await signInToAccount(srv, agent, user.email, user.password);
    return { ...user, agent };
  }
  const enrol = async (agent: Agent, phone: string, country = 'CH', name = 'Mobile') =>
    agent.submit(await agent.go('/account/security/sms/new'), { name, country, phone }, '/account/security/sms"');

  it('sms.country-not-allowed: only mobile numbers of CH, FR, BE and DE are accepted, with a clear message', async () => {
    const { agent } = await signedIn('198.51.100.1', 'de');
    const before = srv.smsOutbox().length;
    const cases: Array<[string, string, string]> = [
      [
        '+1 202 555 0143',
        'CH',
        'SMS-Codes können nur an Mobilnummern in der Schweiz, in Frankreich, Belgien oder Deutschland gesendet werden.',
      ],
      [
        '+44 20 7946 0958',
        'CH',
        'SMS-Codes können nur an Mobilnummern in der Schweiz, in Frankreich, Belgien oder Deutschland gesendet werden.',
      ],
      ['+41 44 123 45 67', 'CH', 'Das ist keine Mobilnummer. Geben Sie eine Mobilnummer ein, die SMS empfangen kann.'],
      ['not a number', 'CH', 'Das sieht nicht nach einer gültigen Telefonnummer aus. Prüfen Sie sie und das Land.'],
    ];
    for (const [phone, country, message] of cases) {
      const form = await agent.go('/account/security/sms/new');
      const res = await agent.submit(form, { name: 'Handy', country, phone }, '/account/security/sms"');
      expect(res.status).toBe(400);
      expect(alert(res)).toBe(message);
      expect(res.body).toContain(`value="${phone}"`); // the input is kept
    }
    expect(srv.smsOutbox().length).toBe(before);
    // National formats are read with the chosen country; these are all mobiles of allowed countries.
    for (const [phone, country] of [
      ['079 123 45 67', 'CH'],
      ['06 12 34 56 78', 'FR'],
      ['0470 12 34 56', 'BE'],
      ['0151 23456789', 'DE'],
    ]) {
      const other = await signedIn(`198.51.100.${100 + seq++}`);
      const res = await enrol(other.agent, phone!, country!);
      expect(res.status, phone).toBe(200);
      expect(res.body).toContain('id="sms-sent"');
    }
  });

  it('enrols a Swiss mobile with the code it receives, then signs in with an SMS code: amr pwd+sms', async () => {
    const user = await signedIn('198.51.100.2', 'fr');
    const phone = swissMobile();
    const codePage = await enrol(user.agent, phone.replace(/^\+41/, '0'), 'CH', 'Mon mobile');
    expect(codePage.status).toBe(200);
    expect(codePage.body).toContain(phone.slice(0, 3));
    expect(codePage.body).not.toContain(phone);
    const sms = srv
      .smsOutbox()
      .filter((m) => m.to === phone)
      .at(-1)!;
    expect(sms.text).toMatch(/^Votre code Sesame est \d{6}\./);
    expect(sms.text).toMatch(new RegExp(`@localhost:\\d+ #\\d{6}$`)); // WebOTP line
    const wrong = await user.agent.submit(
      codePage,
      { code: '000000' === lastCodeTo(srv, phone) ? '111111' : '000000' },
      '/sms/confirm"',
    );
    expect(wrong.status).toBe(400);
    const done = await user.agent.submit(wrong, { code: lastCodeTo(srv, phone)! }, '/sms/confirm"');
    expect(done.body).toContain('id="codes"');

    const agent = new Agent(srv.url, { 'x-forwarded-for': '198.51.100.3' });
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
    });
    const second = await agent.submit(
      await agent.go(`/authorize?${q}`),
      { email: user.email, password: user.password },
      '/login',
    );
    expect(second.body).toContain('id="sms-sent"');
    const consent = await agent.submit(second, { code: lastCodeTo(srv, phone)! }, '/second-factor"');
    const back = await agent.submit(consent, {}, '/confirm"');
    const { claims } = await redeem(srv, web, new URL(back.url).searchParams.get('code')!);
    expect(claims.amr).toEqual(['pwd', 'sms']);
    expect(claims.acr).toBe('urn:sesame:loa:2');
  });

  it('a code allows five attempts; after that even the right code fails', async () => {
    const user = await signedIn('198.51.100.4');
    const phone = swissMobile();
    let page = await enrol(user.agent, phone);
    const code = lastCodeTo(srv, phone)!;
    const wrongCode = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) page = await user.agent.submit(page, { code: wrongCode }, '/sms/confirm"');
    const late = await user.agent.submit(page, { code }, '/sms/confirm"');
    expect(late.status).toBe(400);
    expect(await srv.deps.repos.secondFactors.count(user.account.id)).toBe(0);
  });

  it('sms.send-flood: sends stop at the limit per number, per account and per IP', async () => {
    // Per number (3 an hour): one enrolment + one sign-in page + many "send a new code".
    const a = await signedIn('198.51.100.20');
    const n1 = swissMobile();
    await a.agent.submit(await enrol(a.agent, n1), { code: lastCodeTo(srv, n1)! }, '/sms/confirm"');
    const agent = new Agent(srv.url, { 'x-forwarded-for': '198.51.100.21' });
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
    });
    let page = await agent.submit(
      await agent.go(`/authorize?${q}`),
      { email: a.email, password: a.password },
      '/login',
    );
    for (let i = 0; i < 6; i++) page = await agent.submit(page, {}, '/second-factor/resend"');
    expect(page.status).toBe(429);
    expect(alert(page)).toBe('Too many attempts. Please wait a few minutes and try again.');
    expect(srv.smsOutbox().filter((m) => m.to === n1)).toHaveLength(3);

    // Per account (4 an hour): ten different numbers from one account.
    const b = await signedIn('198.51.100.22');
    const numbersB = Array.from({ length: 10 }, swissMobile);
    for (const n of numbersB) await enrol(b.agent, n);
    expect(srv.smsOutbox().filter((m) => numbersB.includes(m.to))).toHaveLength(4);

    // Per IP (5 an hour): two accounts behind one address.
    const c = await signedIn('198.51.100.23');
    const d = new Agent(srv.url, { 'x-forwarded-for': '198.51.100.23' });
    const dUser = await createUser(srv);
    await signInToAccount(srv, d, dUser.email, dUser.password);
    const numbersCD = Array.from({ length: 8 }, swissMobile);
    for (const [i, n] of numbersCD.entries()) await enrol(i % 2 ? d : c.agent, n);
    expect(srv.smsOutbox().filter((m) => numbersCD.includes(m.to))).toHaveLength(5);
  });
});

describe('sms http gateway', () => {
  let srv: TestServer;
  let gateway: http.Server;
  const received: Array<{ auth?: string; type?: string; body: { to: string; text: string } }> = [];
  let failNext = false;
  beforeAll(async () => {
    gateway = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        if (failNext) {
          failNext = false;
          res.writeHead(502).end();
          return;
        }
        received.push({ auth: req.headers.authorization, type: req.headers['content-type'], body: JSON.parse(raw) });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
    srv = await startServer({ env: { SMS_GATEWAY_URL: url, SMS_GATEWAY_TOKEN: 'gateway-token-123' } });
  });
  afterAll(async () => {
    await srv?.stop();
    gateway?.close();
  });

  it('posts JSON {to, text} with the bearer token; a failing gateway gives a clear message, not a 500', async () => {
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const phone = '+33612345678';
    const page = await agent.submit(
      await agent.go('/account/security/sms/new'),
      { name: 'Portable', country: 'FR', phone: '06 12 34 56 78' },
      '/account/security/sms"',
    );
    expect(page.status).toBe(200);
    const msg = received.at(-1)!;
    expect(msg.auth).toBe('Bearer gateway-token-123');
    expect(msg.type).toBe('application/json');
    expect(msg.body.to).toBe(phone);
    const code = msg.body.text.match(/\b(\d{6})\b/)![1]!;
    const done = await agent.submit(page, { code }, '/sms/confirm"');
    expect(done.body).toContain('id="codes"');
    expect(srv.smsOutbox()).toHaveLength(0); // the gateway replaced the outbox

    failNext = true;
    const failed = await agent.submit(
      await agent.go('/account/security/sms/new'),
      { name: 'Autre', country: 'FR', phone: '06 98 76 54 32' },
      '/account/security/sms"',
    );
    expect(failed.status).toBe(503);
    expect(alert(failed)).toBe(
      'The text message could not be sent right now. Try again later or choose another method.',
    );
  });
});
