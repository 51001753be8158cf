// The account menu in a real browser at a phone's width (390 px): every entry visible and
// reachable without JavaScript, the current page marked.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createUser } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';

describe('browser: account menu', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('pages.account-menu-at-390px: every entry fits a 390 px screen, and it works without JavaScript', async () => {
    const { srv, browser } = rig;
    const { email, password } = await createUser(srv, { locale: 'de' });
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
      locale: 'de-CH',
    });
    const page = await context.newPage();
    await page.goto(`${srv.url}/account/profile`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await page.waitForURL(`${srv.url}/account/profile`);

    const menu = page.locator('#account-menu');
    await expect.poll(() => menu.isVisible()).toBe(true);
    expect(await menu.getAttribute('aria-label')).toBe('Kontomenü');
    const links = menu.locator('a');
    expect(await links.allTextContents()).toEqual([
      'Profil',
      'Sicherheit',
      'Angemeldete Geräte',
      'Aktivität',
      'Anwendungen',
      'Organisationen',
      'Abmelden',
    ]);
    for (let i = 0; i < (await links.count()); i++) {
      const box = (await links.nth(i).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(box.height).toBeGreaterThanOrEqual(24); // a tap target, not a squeezed line
    }
    // Wrapping, not scrolling sideways; and compact: at most three rows above the page (German's
    // long words put seven entries on three rows at this width).
    expect(await menu.evaluate((n) => n.scrollWidth <= n.clientWidth)).toBe(true);
    expect((await menu.boundingBox())!.height).toBeLessThan(140);
    // The organization switcher below it fits too.
    const switcher = (await page.locator('#org-switcher').boundingBox())!;
    expect(switcher.x + switcher.width).toBeLessThanOrEqual(390);
    expect(await page.locator('#profile-link').getAttribute('aria-current')).toBe('page');
    await page.screenshot({ path: `${srv.dataDir}/account-menu-390.png` });

    await page.click('#security-link');
    await page.waitForURL(`${srv.url}/account/security`);
    expect(await page.locator('#security-link').getAttribute('aria-current')).toBe('page');
    expect(await page.locator('#profile-link').getAttribute('aria-current')).toBeNull();
    await context.close();
  });
});
