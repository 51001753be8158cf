// kAuth in a real browser: the Security page sees the reference device link without reloading; a
// sign-in page continues by itself when the device approves with the right number, and says so on
// a wrong number, a deny or expiry.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestServer } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';
import type { TestRp } from './helpers/rp.ts';
import { DeviceClient, DeviceApiError } from '../src/kauth/device-client.ts';
import { testClock } from './helpers/clock.ts';

describe('browser: kAuth push', () => {
  let rig: BrowserRig;
  let srv: TestServer;
  let browser: Browser;
  let rp: TestRp;
  let email: string;
  let password: string;
  let device: DeviceClient;
  beforeAll(async () => {
    rig = await startBrowserRig({ env: { PUSH_CHALLENGE_SECONDS: '120' } });
    ({ srv, browser, rp } = rig);
    ({ email, password } = await createUser(srv, { locale: 'es' }));
  });
  afterAll(async () => {
    await rig?.close();
  });

  async function signIn(page: Page) {
    await page.goto(`${rp.url}/login`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await page.waitForSelector('#push-number');
    return Number(await page.locator('#push-number').textContent());
  }
  async function latestRequest() {
    await expect.poll(async () => (await device.pending()).length).toBeGreaterThan(0);
    return (await device.pending()).at(-1)!;
  }

  it('links the reference device: the Security page notices by itself and shows the backup codes', async () => {
    const page = await browser.newPage({ locale: 'es-ES' });
    await page.goto(`${srv.url}/account/security`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await page.click('#add-push');
    await page.waitForSelector('#qr svg');
    const url = (await page.locator('#enrolment-url').textContent())!.trim();
    device = await DeviceClient.link(url, 'iPhone de Ana');
    await page.waitForSelector('#codes', { timeout: 10_000 }); // no click, no reload
    expect(await page.locator('h1').textContent()).toBe('La verificación en dos pasos está activada');
    await page.close();
  });

  it('the sign-in page continues by itself when the device approves with the right number', async () => {
    const page = await browser.newPage({ locale: 'es-ES' });
    const number = await signIn(page);
    expect(await page.locator('h1').textContent()).toBe('Verificación en dos pasos');
    const request = await latestRequest();
    expect(request.app).toBe('Example Blog');
    const { url, init } = await device.sign('POST', `/challenges/${request.id}`, { decision: 'approve', number });
    expect((await fetch(url, init)).status).toBe(200);
    await page.waitForSelector('#allow', { timeout: 10_000 });
    await page.click('#allow');
    await page.waitForSelector('#welcome');
    expect(await page.locator('#amr').textContent()).toBe('pwd swk mfa');
    // The captured approval, replayed, is refused.
    expect((await fetch(url, init)).status).toBe(401);
    await page.close();
  });

  it('a wrong number, a NO, or expiry: the page says so and does not sign in', async () => {
    const context = await browser.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    const number = await signIn(page);
    const wrong = await device
      .approve((await latestRequest()).id, number === 99 ? 10 : number + 1)
      .catch((e: DeviceApiError) => e);
    expect((wrong as DeviceApiError).body.error).toBe('wrong_number');
    await page.waitForSelector('#push[data-state="denied"]');
    expect(await page.locator('#push-status').textContent()).toBe(
      'La solicitud se rechazó en tu teléfono. Envía una nueva solicitud o usa otro método.',
    );

    await page.click('#push-resend');
    await page.waitForSelector('#push[data-state="pending"]');
    await device.deny((await latestRequest()).id);
    await page.waitForSelector('#push[data-state="denied"]');

    await page.click('#push-resend');
    await page.waitForSelector('#push[data-state="pending"]');
    // Two minutes later (the servers' clock moves; nobody waits).
    testClock.advance(120_001);
    await page.waitForSelector('#push[data-state="expired"]', { timeout: 10_000 });
    expect(await page.locator('#push-status').textContent()).toBe(
      'La solicitud ha caducado. Envía una nueva solicitud o usa otro método.',
    );
    expect(page.url().startsWith(srv.url)).toBe(true);
    await context.close();
  });
});
