// Second factors in a real browser (Debian's Chromium): an authenticator app enrolled on the
// Security page and used by a relying party; a security key registered and used through Chromium's
// virtual authenticator (DevTools protocol WebAuthn domain).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestServer } from './helpers/server.ts';
import { startBrowserRig, enrolTotpInBrowser, type BrowserRig } from './helpers/browser.ts';
import type { TestRp } from './helpers/rp.ts';
import { totpCode } from './helpers/mfa.ts';

describe('browser: second factors', () => {
  let rig: BrowserRig;
  let srv: TestServer;
  let browser: Browser;
  let rp: TestRp;
  beforeAll(async () => {
    rig = await startBrowserRig();
    ({ srv, browser, rp } = rig);
  });
  afterAll(async () => {
    await rig?.close();
  });

  async function signIn(page: Page, email: string, password: string) {
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
  }

  it('enrols an authenticator app on the Security page; a relying party then gets amr pwd+otp', async () => {
    const { email, password } = await createUser(srv);
    const setup = await browser.newContext({ locale: 'en-US' });
    const page = await setup.newPage();
    await page.goto(`${srv.url}/account/security`);
    await signIn(page, email, password);
    const secret = await enrolTotpInBrowser(page, async () => {
      expect(await page.locator('#codes li').count()).toBe(10);
      const download = page.waitForEvent('download');
      await page.click('#download');
      const file = await download;
      expect(file.suggestedFilename()).toBe('sesame-backup-codes.txt');
    });
    await setup.close();

    // A new browser signs in to the relying party: password, then the app's code.
    const context = await browser.newContext({ locale: 'en-US' });
    const rpPage = await context.newPage();
    await rpPage.goto(`${rp.url}/login`);
    await signIn(rpPage, email, password);
    await rpPage.waitForSelector('input[name=code]');
    expect(await rpPage.locator('h1').textContent()).toBe('Two-step verification');
    await rpPage.fill('input[name=code]', totpCode(secret, 1));
    await rpPage.click('button[type=submit]');
    await rpPage.click('#allow');
    await rpPage.waitForSelector('#welcome');
    expect(await rpPage.locator('#amr').textContent()).toBe('pwd otp');
    expect(await rpPage.locator('#acr').textContent()).toBe('urn:sesame:loa:2');
    await context.close();
  });

  it('registers a security key with the virtual authenticator and signs in to a relying party with it', async () => {
    const { email, password } = await createUser(srv, { locale: 'de' });
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: false,
        hasUserVerification: false,
        automaticPresenceSimulation: true,
      },
    });

    await page.goto(`${srv.url}/account/security`);
    await signIn(page, email, password);
    await page.waitForSelector('#mfa-status');
    await page.click('#add-webauthn');
    await page.fill('input[name=name]', 'YubiKey am Schlüsselbund');
    await page.click('#register-key');
    await page.waitForSelector('#codes');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.rpId).toBe('localhost');
    await page.click('#continue');
    expect(await page.locator('#factors').textContent()).toContain('YubiKey am Schlüsselbund');

    // Sign out of Sesame, then sign in to the relying party with password + key.
    await page.goto(`${srv.url}/logout`);
    await page.click('#logout-yes');
    await page.goto(`${rp.url}/login`);
    await signIn(page, email, password);
    await page.waitForSelector('#use-key');
    expect(await page.locator('h1').textContent()).toBe('Bestätigung in zwei Schritten');
    await page.click('#use-key');
    await page.waitForSelector('#allow');
    await page.click('#allow');
    await page.waitForSelector('#welcome');
    expect(await page.locator('#amr').textContent()).toBe('pwd hwk');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(after.credentials[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);
    await context.close();
  });
});
