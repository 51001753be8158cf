// kAuth push approval through HTTP with the reference device client: linking from the Security
// page, number matching, the device API's signatures, and the attacks the issue names.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  storageModes,
  createUser,
  createClient,
  failureCount,
  type TestServer,
} from './helpers/server.ts';
import { Agent, decodeEntities, type Page } from './helpers/agent.ts';
import { signInToAccount, signedInUser, passwordStep, redeem } from './helpers/mfa.ts';
import { testClock } from './helpers/clock.ts';
import { runCli } from '../src/cli/main.ts';
import { DeviceClient, DeviceApiError } from '../src/kauth/device-client.ts';
import { SignJWT, importJWK, generateKeyPair, exportJWK } from 'jose';

const alert = (page: Page) => page.body.match(/<p class="alert" role="alert" id="error">([^<]*)</)?.[1];
const numberOn = (page: Page) => Number(page.body.match(/<p class="push-number" id="push-number">(\d+)<\/p>/)![1]);
const apiError = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => (e instanceof DeviceApiError ? { status: e.status, error: e.body.error } : Promise.reject(e)),
  );

async function linkDevice(srv: TestServer, agent: Agent, name = 'Pixel 9') {
  const page = await agent.go('/account/security/push/new');
  expect(page.body).toContain('<svg');
  const url = decodeEntities(page.body.match(/<code id="enrolment-url">([^<]+)<\/code>/)![1]!);
  const enrolmentId = page.body.match(/data-poll="\/account\/security\/push\/enrolments\/([\w-]+)"/)![1]!;
  const status = async () =>
    JSON.parse((await agent.go(`/account/security/push/enrolments/${enrolmentId}`)).body) as { status: string };
  expect((await status()).status).toBe('pending');
  const device = await DeviceClient.link(url, name);
  expect((await status()).status).toBe('linked');
  return { device, url, enrolmentId, done: await agent.go(`/account/security/push/enrolments/${enrolmentId}/done`) };
}

describe.each(storageModes())('push (%s storage)', (mode) => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ mode });
    web = await createClient(srv, { type: 'web', name: 'Example Blog' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function userWithDevice(locale = 'en') {
    const user = await signedInUser(srv, { locale });
    return { ...user, ...(await linkDevice(srv, user.agent)) };
  }
  async function pushPage(email: string, password: string) {
    const { agent, page, uid } = await passwordStep(srv, web, email, password, {
      headers: {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      },
    });
    expect(page.body).toContain('id="push-number"');
    const status = async () =>
      (JSON.parse((await agent.go(`/interaction/${uid}/second-factor/status?method=push`)).body) as { status: string })
        .status;
    return { agent, page, uid, status, number: numberOn(page) };
  }

  it('links a device from the Security page (single-use link), then a sign-in approved with the number: amr pwd+swk+mfa', async () => {
    const user = await userWithDevice();
    expect(user.done.body).toContain('id="codes"'); // first method: backup codes, shown once
    expect(await apiError(DeviceClient.link(user.url, 'Second try'))).toEqual({
      status: 400,
      error: 'enrolment_invalid',
    });
    expect(await user.device.me()).toMatchObject({ name: 'Pixel 9', account: user.email });
    // Renamed on the Security page: the device sees its new name, the owner gets an email.
    const rename = await user.agent.go(`/account/security/factors/${user.device.state.deviceId}/rename`);
    await user.agent.submit(rename, { name: 'Pixel 9 Pro' }, '/rename"');
    expect(await user.device.me()).toMatchObject({ name: 'Pixel 9 Pro' });
    expect(
      srv
        .outbox()
        .filter((m) => m.to === user.email)
        .at(-1)!.kind,
    ).toBe('security_factor_renamed');

    const login = await pushPage(user.email, user.password);
    expect(login.number).toBeGreaterThanOrEqual(10);
    expect(login.number).toBeLessThanOrEqual(99);
    const [pending] = await user.device.pending();
    expect(pending).toMatchObject({
      app: 'Example Blog',
      browser: 'Chrome 140 · Linux',
      ip: '127.0.0.1',
      place: 'this_computer',
    });
    expect(JSON.stringify(pending)).not.toContain(`"number"`); // the device must get the number from the user
    expect(await login.status()).toBe('pending');
    expect(await user.device.approve(pending!.id, login.number)).toEqual({ status: 'approved' });
    expect(await login.status()).toBe('approved');
    const consent = await login.agent.submit(login.page, {}, '/second-factor"');
    const back = await login.agent.submit(consent, {}, '/confirm"');
    const { claims } = await redeem(srv, web, new URL(back.url).searchParams.get('code')!);
    expect(claims.amr).toEqual(['pwd', 'swk', 'mfa']);
    expect(claims.acr).toBe('urn:sesame:loa:2');
  });

  it('push.wrong-number: a YES with the wrong number denies the request and counts a failure', async () => {
    const user = await userWithDevice();
    const login = await pushPage(user.email, user.password);
    const [pending] = await user.device.pending();
    const wrong = login.number === 99 ? 10 : login.number + 1;
    expect(await apiError(user.device.approve(pending!.id, wrong))).toEqual({ status: 400, error: 'wrong_number' });
    expect(await login.status()).toBe('denied');
    // One try per request: the right number afterwards is too late.
    expect(await apiError(user.device.approve(pending!.id, login.number))).toEqual({
      status: 409,
      error: 'already_decided',
    });
    const refused = await login.agent.submit(login.page, {}, '/second-factor"');
    expect(refused.status).toBe(401);
    expect(await failureCount(srv, 'second_factor', user.account.id)).toBe(2); // the deny, then the refused finish
  });

  it('push.replayed-approval: a captured approval request is refused, and one approval finishes one sign-in', async () => {
    const user = await userWithDevice();
    const first = await pushPage(user.email, user.password);
    const [pending] = await user.device.pending();
    const { url, init } = await user.device.sign('POST', `/challenges/${pending!.id}`, {
      decision: 'approve',
      number: first.number,
    });
    expect((await fetch(url, init)).status).toBe(200);
    const replay = await fetch(url, init);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toBe('replayed_request');

    // The approval of the first sign-in is no use to a second one.
    const second = await pushPage(user.email, user.password);
    expect((await second.agent.submit(second.page, {}, '/second-factor"')).status).toBe(401);
    expect(await apiError(user.device.approve(pending!.id, first.number))).toEqual({
      status: 409,
      error: 'already_decided',
    });
    const done = await first.agent.submit(first.page, {}, '/second-factor"');
    expect(done.body).toContain('/confirm"');
    const again = await first.agent.submit(first.page, {}, '/second-factor"');
    expect(again.status).toBe(400); // the sign-in is finished: nothing to continue
  });

  it('a NO marked "this wasn\'t me" emails the owner in their language; the page says denied', async () => {
    const user = await userWithDevice('it');
    const login = await pushPage(user.email, user.password);
    const [pending] = await user.device.pending();
    expect(await user.device.deny(pending!.id, true)).toEqual({ status: 'denied' });
    expect(await login.status()).toBe('denied');
    const mail = srv
      .outbox()
      .filter((m) => m.to === user.email)
      .at(-1)!;
    expect(mail.kind).toBe('push_denied');
    expect(mail.subject).toBe('Qualcuno ha tentato di accedere al tuo account Sesame');
    expect(mail.text).toContain('Chrome 140 · Linux');
    const page = await login.agent.go(`/interaction/${login.uid}?method=push`);
    expect(page.body).toContain('id="push-number"'); // reopening asks again
  });

  it('offline codes from the device are accepted once (amr pwd+otp)', async () => {
    const user = await userWithDevice();
    const login = await pushPage(user.email, user.password);
    const code = user.device.code(1);
    const consent = await login.agent.submit(login.page, { code }, '/second-factor"');
    const back = await login.agent.submit(consent, {}, '/confirm"');
    expect((await redeem(srv, web, new URL(back.url).searchParams.get('code')!)).claims.amr).toEqual(['pwd', 'otp']);
    const second = await pushPage(user.email, user.password);
    expect((await second.agent.submit(second.page, { code }, '/second-factor"')).status).toBe(401);
  });

  it('push.removed-device: an unlinked device is told at once, and its requests and answers are refused', async () => {
    const user = await userWithDevice();
    const login = await pushPage(user.email, user.password);
    const [pending] = await user.device.pending();
    const events: string[] = [];
    const watching = user.device.watch((event) => events.push(event));
    await expect.poll(() => events.length).toBeGreaterThan(0); // the open request arrives first
    const factorId = user.device.state.deviceId;
    const confirm = await user.agent.go(`/account/security/factors/${factorId}/remove`);
    await user.agent.submit(confirm, { confirm_disable: 'yes' }, '/remove"');
    await watching; // the stream ends after "removed"
    expect(events).toEqual(['challenge', 'removed']);
    expect(await apiError(user.device.me())).toEqual({ status: 401, error: 'device_not_linked' });
    expect(await apiError(user.device.approve(pending!.id, login.number))).toEqual({
      status: 401,
      error: 'device_not_linked',
    });
  });

  it('device requests must be signed by the linked key, for this method and URL, fresh', async () => {
    const user = await userWithDevice();
    const other = await userWithDevice();
    const api = `${srv.url}/1/devices`;
    const unsigned = await fetch(`${api}/me`, { headers: { accept: 'application/json' } });
    expect(unsigned.status).toBe(401);
    // Another device's key claiming this device's id.
    const impostor = new DeviceClient({ ...other.device.state, deviceId: user.device.state.deviceId });
    expect(await apiError(impostor.me())).toEqual({ status: 401, error: 'device_auth_required' });
    // A signature for another URL.
    const forOther = await user.device.sign('GET', '/challenges');
    expect((await fetch(`${api}/me`, forOther.init)).status).toBe(401);
  });

  it('kauth.device-jwt-without-exp-refused: a device request must say when it expires, and soon', async () => {
    const { device } = await userWithDevice();
    const { deviceId, privateJwk, alg } = device.state;
    const url = `${srv.url}/1/devices/me`;
    const key = await importJWK(privateJwk, alg);
    const request = (claims: (jwt: SignJWT) => SignJWT) =>
      claims(
        new SignJWT({ htm: 'GET', htu: url }).setProtectedHeader({ alg, kid: deviceId }).setJti(crypto.randomUUID()),
      )
        .sign(key)
        .then((jwt) => fetch(url, { headers: { authorization: `Device ${jwt}`, accept: 'application/json' } }));
    const noExp = await request((j) => j.setIssuedAt());
    expect(noExp.status).toBe(401);
    expect(((await noExp.json()) as { error: string }).error).toBe('device_auth_required');
    // A long life claimed for a fresh request (captured, it would stay valid).
    expect((await request((j) => j.setIssuedAt().setExpirationTime('1h'))).status).toBe(401);
    // The same request with a short exp is the device's own.
    expect((await request((j) => j.setIssuedAt().setExpirationTime('60s'))).status).toBe(200);
  });

  it('kauth.device-jwt-without-exp-refused: an enrolment request without exp is refused', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/security/push/new');
    const url = decodeEntities(page.body.match(/<code id="enrolment-url">([^<]+)<\/code>/)![1]!);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const enrol = (claims: (jwt: SignJWT) => SignJWT) =>
      claims(new SignJWT({ name: 'Rogue' }).setProtectedHeader({ alg: 'ES256', jwk }).setJti(crypto.randomUUID()))
        .sign(privateKey)
        .then((request) =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ request }),
          }),
        );
    expect((await enrol((j) => j.setIssuedAt())).status).toBe(400);
    expect((await enrol((j) => j.setIssuedAt().setExpirationTime('60s'))).status).toBe(201);
  });
});

describe('push limits and expiry', () => {
  let srv: TestServer;
  let web: Awaited<ReturnType<typeof createClient>>;
  beforeAll(async () => {
    srv = await startServer({ env: { PUSH_CHALLENGE_SECONDS: '1', RATE_LIMIT_PUSH_PER_ACCOUNT: '3' } });
    web = await createClient(srv, { type: 'web' });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function setup() {
    const user = await signedInUser(srv);
    const { device } = await linkDevice(srv, user.agent);
    const { agent: browser, page, uid } = await passwordStep(srv, web, user.email, user.password);
    return { user, device, browser, page, uid };
  }

  it('push.expired-challenge: after about two minutes (here 1 s) a YES is refused and the page says so', async () => {
    const { device, browser, page, uid } = await setup();
    const [pending] = await device.pending();
    testClock.advance(1001);
    expect(await apiError(device.approve(pending!.id, numberOn(page)))).toEqual({
      status: 410,
      error: 'challenge_expired',
    });
    expect(JSON.parse((await browser.go(`/interaction/${uid}/second-factor/status?method=push`)).body)).toEqual({
      status: 'expired',
    });
    expect(await device.pending()).toEqual([]);
    const refused = await browser.submit(page, {}, '/second-factor"');
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('data-state="expired"');
  });

  it('push.fatigue-limit: approval requests per account are capped; the page says to wait', async () => {
    const { device, browser, page } = await setup();
    // RATE_LIMIT_PUSH_PER_ACCOUNT is 3 here: the second-factor page sent the first request, so two
    // "send a new request" go through and the next three are refused.
    expect(srv.config.rateLimits.pushPerAccount).toBe(3);
    expect(page.body).toContain('id="push-number"');
    let last = page;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      last = await browser.submit(last, {}, '/second-factor/resend"');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    expect(alert(last)).toBe('Too many attempts. Please wait a few minutes and try again.');
    // No request was sent, so the page shows no number and no "we sent a request" (nothing undefined).
    expect(last.body).not.toContain('id="push-number"');
    expect(last.body).not.toMatch(/undefined|mfa\.push\./);
    // Each request stays open 1 s here, but its id stays in the device's set (nothing has read it
    // since): exactly what reached the device over the whole run.
    const seen = new Set(await srv.deps.store.sMembers(`push-pending:${device.state.deviceId}`));
    expect(seen.size).toBe(3);
  });
});

describe('sesame device (the reference client on the command line)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('links, lists, approves with the number, shows offline codes; errors are JSON with exit code 1', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const file = path.join(srv.dataDir, 'phone.json');
    // `sesame device …` in this process (runCli is what the binary runs).
    const sesame = async (...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['device', ...args, '--file', file], {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
      });
      return { code, stdout, stderr };
    };
    const device = async (...args: string[]) => JSON.parse((await sesame(...args)).stdout);

    const web = await createClient(srv, { type: 'web' });
    const user = await createUser(srv);
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, user.email, user.password);
    const page = await agent.go('/account/security/push/new');
    const url = decodeEntities(page.body.match(/<code id="enrolment-url">([^<]+)<\/code>/)![1]!);
    expect(await device('link', url, '--name', 'CLI phone')).toMatchObject({ name: 'CLI phone', account: user.email });
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(await device('whoami')).toMatchObject({ name: 'CLI phone', account: user.email });

    const browser = new Agent(srv.url);
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's',
    });
    const second = await browser.submit(
      await browser.go(`/authorize?${q}`),
      { email: user.email, password: user.password },
      '/login',
    );
    const { challenges } = await device('pending');
    expect(challenges).toHaveLength(1);
    expect(await device('approve', challenges[0].id, '--number', String(numberOn(second)))).toEqual({
      status: 'approved',
    });
    expect((await browser.submit(second, {}, '/second-factor"')).body).toContain('/confirm"');
    expect((await device('code')).code).toMatch(/^\d{6}$/);

    const again = await sesame('approve', challenges[0].id, '--number', '1');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ status: 409, error: 'already_decided' });
  });
});
