// A real browser: sign up → sign in too early (confirm first, resend) → open the emailed link with the
// password → sign in → consent → back at the relying party.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { uniqueEmail, createUser, STRONG_PASSWORD, type TestServer } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';
import type { TestRp } from './helpers/rp.ts';

describe('browser', () => {
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

  it('sign-up → confirm first → email link and password → sign-in → consent → the relying party gets the verified email', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    const email = uniqueEmail('browser');
    await page.goto(`${rp.url}/login`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Connexion');
    expect(await page.locator('.lead').textContent()).toContain('Example Blog');
    await page.click('a[href^="/signup"]');
    await page.fill('input[name=given_name]', 'Marie');
    await page.fill('input[name=family_name]', 'Curie');
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', STRONG_PASSWORD);
    await page.click('main button[type=submit]');
    await page.waitForSelector('#check-email');

    // Signing in before confirming the address stops at "confirm your email first", which can
    // send the link again.
    await page.click('a.button');
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', STRONG_PASSWORD);
    await page.click('main button[type=submit]');
    await page.waitForSelector('#verify-first');
    await page.click('#resend');
    await page.waitForSelector('#sent');

    await srv.drained();
    const mail = srv.outbox().filter((m) => m.to === email);
    expect(mail.map((m) => m.subject)).toEqual(['Confirmez votre adresse e-mail', 'Confirmez votre adresse e-mail']);
    const link = mail[1]!.text.match(/http\S+verify-email\S+/)![0];
    await page.goto(link);
    await page.fill('input[name=password]', STRONG_PASSWORD); // the one chosen at sign-up
    await page.click('main button[type=submit]');
    await page.waitForSelector('#verified');
    await page.click('a.button'); // back to the sign-in page of the same login

    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', STRONG_PASSWORD);
    await page.click('main button[type=submit]');
    await page.waitForSelector('#allow');
    expect(await page.locator('h1').textContent()).toBe("Autoriser l'accès ?");
    await page.screenshot({ path: `${srv.dataDir}/consent.png` });
    await page.click('#allow');
    await page.waitForSelector('#welcome');
    expect(await page.locator('#welcome').textContent()).toBe('Welcome Marie Curie');
    expect(await page.locator('#email').textContent()).toBe(email);
    await page.close();
  });

  it('a wrong password shows one message and keeps the email', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(`${rp.url}/login`);
    await page.fill('input[name=email]', 'nobody@example.test');
    await page.fill('input[name=password]', 'not the password');
    await page.click('main button[type=submit]');
    await page.waitForSelector('#error');
    expect(await page.locator('#error').textContent()).toBe('Wrong email or password.');
    expect(await page.inputValue('input[name=email]')).toBe('nobody@example.test');
    await page.close();
  });

  it('form_post.csp: the response_mode=form_post page has a CSP allowing only its own script, and still submits itself', async () => {
    const { email, password } = await createUser(srv, { name: 'Ada Lovelace' });
    const page = await browser.newPage({ locale: 'en-US' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    // The page that posts the code to the relying party: the one HTML page /authorize/… answers with.
    let formPost: { csp: string | undefined } | undefined;
    page.on('response', (res) => {
      const html = res.headers()['content-type']?.includes('html');
      if (res.status() === 200 && html && res.url().startsWith(`${srv.url}/authorize/`))
        formPost = { csp: res.headers()['content-security-policy'] };
    });
    await page.goto(`${rp.url}/login?response_mode=form_post`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await page.click('#allow');
    await page.waitForSelector('#welcome');
    expect(await page.locator('#welcome').textContent()).toBe('Welcome Ada Lovelace');
    expect(formPost).toBeDefined();
    expect(formPost?.csp).toMatch(/default-src 'none'/);
    expect(formPost?.csp).toMatch(/script-src 'sha256-[\w+/=]+'(;|$)/);
    expect(violations).toEqual([]);
    await page.close();
  });
});
