// Debian's Chromium driven by playwright-core: never a downloaded browser.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startServer, createClient, type StartOptions } from './server.ts';
import { startRp } from './rp.ts';

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
