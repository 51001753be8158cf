// App passwords in a real browser: a user turns 2FA on (an authenticator app), makes an app password
// on Security → App passwords, sees it once with the username and a copy button that puts exactly
// it on the clipboard (the static script, under the strict CSP), finds it in the list, and revokes
// it; a reverse proxy's forward-auth check accepts it until then, and refuses it after.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createUser } from './helpers/server.ts';
import { startBrowserRig, enrolTotpInBrowser, type BrowserRig } from './helpers/browser.ts';
import { waitFor } from './helpers/processes.ts';
import { plainBasic } from './helpers/agent.ts';

describe('browser: app passwords', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('app-password.browser-create-copy-revoke: made with the form, shown once with the username and a working copy button, listed, revoked', async () => {
    const { srv, browser } = rig;
    const { account, email, password } = await createUser(srv);
    const forward = async (secret: string) =>
      (
        await fetch(`${srv.url}/auth/forward`, {
          headers: { authorization: plainBasic(email, secret) },
        })
      ).status;
    const context = await browser.newContext({ locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${srv.url}/account/security`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await enrolTotpInBrowser(page);

    await page.goto(`${srv.url}/account/security/app-passwords`);
    await page.fill('input[name=name]', 'Thunderbird on laptop');
    await page.click('#create-app-password');
    await page.waitForURL(/\/account\/security\/app-passwords\/created\?shown=/);
    const secret = (await page.textContent('#app-password'))!.trim();
    expect(secret).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect((await page.textContent('#app-password-username'))!.trim()).toBe(email);
    expect((await page.textContent('#app-password-name'))!.trim()).toBe('Thunderbird on laptop');
    const copy = page.locator('#copy-app-password');
    await expect.poll(() => copy.isVisible()).toBe(true);
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    expect(await forward(secret)).toBe(200);

    // A reload shows it no more.
    await page.reload();
    await page.waitForSelector('#app-password-spent');
    expect(await page.locator('#app-password').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    // The use is written after the answer: the list shows it once it is.
    await waitFor('the use written', async () => (await srv.deps.appPasswords.list(account.id))[0]?.lastUsedAt);
    await page.click('#app-password-done');
    await page.waitForURL(`${srv.url}/account/security/app-passwords`);
    const row = page.locator('#app-passwords tr[data-app-password]');
    expect(await row.count()).toBe(1);
    expect((await row.locator('.app-password-name').textContent())!.trim()).toBe('Thunderbird on laptop');
    expect(await row.locator('.last-use').textContent()).toMatch(/^Last used .+ from /);
    expect(await page.content()).not.toContain(secret);

    await row.locator('a.revoke-one').click();
    await page.waitForSelector('#confirm-revoke');
    expect(await page.locator('main .lead').textContent()).toContain('“Thunderbird on laptop” stops working at once');
    await page.click('#confirm-revoke');
    await page.waitForSelector('#done');
    expect((await page.textContent('#done'))!.trim()).toBe('App passwords revoked: 1.');
    await page.waitForSelector('#no-app-passwords');
    expect(await forward(secret)).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });
});
