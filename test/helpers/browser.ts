// Debian's Chromium driven by playwright-core: never a downloaded browser.
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, createClient, type StartOptions } from './server.ts';
import { startRp } from './rp.ts';
import { totpCode, awayFromStepBoundary } from './mfa.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumAvailable = fs.existsSync(CHROMIUM);

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What every browser test starts with: the server, a WordPress-like relying party registered as
 *  "Example Blog", and Debian's Chromium. */
export async function startBrowserRig(opts: StartOptions = {}) {
  if (!chromiumAvailable) throw new Error('Chromium is required for the browser tests: apt-get install chromium');
  const srv = await startServer(opts);
  const rp = await startRp(srv.url);
  const client = await createClient(srv, { type: 'web', redirectUris: [rp.callback], name: 'Example Blog' });
  rp.setClient(client.clientId, client.clientSecret);
  const browser = await launchChromium();
  return {
    srv,
    rp,
    browser,
    client,
    async close() {
      await browser.close();
      rp.close();
      await srv.stop();
    },
  };
}
export type BrowserRig = Awaited<ReturnType<typeof startBrowserRig>>;

/** Turns on an authenticator app on the Security page (signed in, 2FA off), as a person does: reads
 *  the secret, types its code, and continues past the backup codes (`atCodes` sees that page
 *  first). Returns the secret. */
export async function enrolTotpInBrowser(page: Page, atCodes?: () => Promise<void>): Promise<string> {
  await page.waitForSelector('#mfa-status[data-enabled="no"]');
  await awayFromStepBoundary();
  await page.click('#add-totp');
  await page.waitForSelector('#qr svg');
  const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
  await page.fill('input[name=code]', totpCode(secret, 0));
  await page.click('main button[type=submit]');
  await page.waitForSelector('#codes');
  await atCodes?.();
  await page.click('#continue');
  await page.waitForSelector('#mfa-status[data-enabled="yes"]');
  return secret;
}
