// In a real Chromium: at 390 px wide (a phone) the Activity and Applications pages, full of data,
// fit the screen without sideways scrolling, and primary buttons span the width; on a desktop the
// activity rows stay compact (at most two lines).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestServer } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';

const LONG_DEVICE = 'Chrome 131 on macOS 15.1 Sequoia (MacBook Pro, Apple silicon) via a corporate proxy';
const IPV6 = '2001:0db8:85a3:0000:0000:8a2e:0370:7334';

describe('browser: narrow screens', () => {
  let rig: BrowserRig;
  let srv: TestServer;
  let browser: Browser;
  let user: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    rig = await startBrowserRig();
    ({ srv, browser } = rig);
    user = await createUser(srv, { locale: 'de' });
    const id = user.account.id;
    for (const [i, type] of ['sign_in', 'second_factor_failed', 'factor_added', 'app_created'].entries()) {
      await srv.deps.repos.activity.record({
        accountId: id,
        type,
        ip: IPV6,
        device: LONG_DEVICE,
        clientId: rig.client.clientId,
        application: 'Example Blog with a rather long application name',
        at: new Date(Date.UTC(2026, 10, 20, 9, i)),
      });
    }
    for (const name of ['Intranet Wiki of the Accounting Department', 'Shop', 'Newsletter archive and subscriptions'])
      await srv.deps.applications.create(id, {
        name,
        type: 'web',
        redirectUris: [
          'https://a-very-long-subdomain.example.org/wp-admin/admin-ajax.php?action=openid-connect-authorize',
        ],
        postLogoutRedirectUris: [],
        backchannelLogoutUri: null,
      });
  });
  afterAll(async () => {
    await rig?.close();
  });

  async function signedInPage(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 844 }, locale: 'de-DE' });
    await page.goto(`${srv.url}/account/activity`);
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await page.click('main button[type=submit]');
    await page.waitForSelector('#activity');
    return page;
  }
  const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);
  /** The width a block child of the card's content box has. */
  const contentWidth = (page: Page) =>
    page.evaluate(() => {
      const main = document.querySelector('main')!;
      const style = getComputedStyle(main);
      return main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    });

  it('narrow.390-no-overflow: Activity and Applications fit, primary buttons span the width', async () => {
    const page = await signedInPage(390);
    expect(await page.locator('#activity tbody tr').count()).toBeGreaterThanOrEqual(4);
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    const full = await contentWidth(page);
    const filter = await page.locator('#filters button[type=submit]').boundingBox();
    expect(filter!.width).toBeGreaterThanOrEqual(full - 1);
    await page.screenshot({ path: `${srv.dataDir}/activity-390.png`, fullPage: true });

    await page.goto(`${srv.url}/account/applications`);
    expect(await page.locator('#applications tbody tr').count()).toBe(3);
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    const create = await page.locator('#new-app').boundingBox();
    expect(create!.width).toBeGreaterThanOrEqual(full - 1);
    await page.screenshot({ path: `${srv.dataDir}/applications-390.png`, fullPage: true });
    await page.close();
  });

  it('activity.compact-rows: on a desktop each entry takes at most two lines', async () => {
    const page = await signedInPage(1280);
    await page.screenshot({ path: `${srv.dataDir}/activity-1280.png`, fullPage: true });
    const heights = await page
      .locator('#activity tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    const line = await page.evaluate(() => parseFloat(getComputedStyle(document.body).lineHeight));
    expect(heights.length).toBeGreaterThanOrEqual(4);
    for (const h of heights) expect(h).toBeLessThanOrEqual(2 * line + 16);
    // The full device and address stay readable (the cell's title), though shortened on screen.
    expect(await page.locator('#activity tr[data-type=app_created] td.where').getAttribute('title')).toBe(
      `${LONG_DEVICE} · ${IPV6}`,
    );
    await page.close();
  });
});
