// In a real browser: lock an account with wrong passwords, open the emailed unlock link, sign in,
// and read it all in the activity log, filtered by type.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestServer } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';
import type { TestRp } from './helpers/rp.ts';

describe('browser: lockout and activity', () => {
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

  async function attempt(page: Page, email: string, password: string) {
    await page.goto(`${rp.url}/login`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
  }

  it('locks after wrong passwords, unlocks through the emailed link, and the activity log shows it', async () => {
    const { account, email, password } = await createUser(srv, { locale: 'en' });
    await srv.deps.repos.accounts.update(account.id, { lockoutThreshold: 3 });
    const page = await browser.newPage({ locale: 'en-US' });
    for (let i = 0; i < 3; i++) {
      await attempt(page, email, `wrong password ${i}`);
      await page.waitForSelector('#error');
    }
    await attempt(page, email, password);
    await page.waitForSelector('#error');
    expect(await page.locator('#error').textContent()).toBe('Wrong email or password.');

    await srv.drained();
    const mail = srv.outbox().find((m) => m.to === email && m.kind === 'account_locked')!;
    expect(mail.subject).toBe('Your Sesame account is locked');
    await page.goto(mail.text.match(/http\S+\/unlock\?token=[\w-]+/)![0]);
    await page.click('#unlock');
    await page.waitForSelector('#unlocked');

    await attempt(page, email, password);
    await page.click('#allow');
    await page.waitForSelector('#welcome');

    await page.goto(`${srv.url}/account/activity`);
    const types = async () =>
      page.locator('#activity tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
    expect(await types()).toEqual([
      'sign_in',
      'unlocked',
      'locked',
      'sign_in_failed',
      'sign_in_failed',
      'sign_in_failed',
    ]);
    await page.selectOption('#type', 'sign_in_failed');
    await page.click('#filters button[type=submit]');
    await page.waitForURL(/type=sign_in_failed/);
    expect(await types()).toEqual(['sign_in_failed', 'sign_in_failed', 'sign_in_failed']);
    expect(await page.locator('#activity').textContent()).toContain('Example Blog');
    await page.screenshot({ path: `${srv.dataDir}/activity.png`, fullPage: true });
    await page.close();
  });
});
