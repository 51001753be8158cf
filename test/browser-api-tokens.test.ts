// A new API token in a real browser: made with the form (a checkbox per scope), shown once, and the
// copy button puts exactly the token on the clipboard (the static script, under the strict CSP).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createUser } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';
import { api } from './helpers/api.ts';

describe('browser: API tokens', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('api.token-copy-button: the copy button copies the new token, which then works', async () => {
    const { srv, browser } = rig;
    const { email, password } = await createUser(srv);
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${srv.url}/account/security/api-tokens/new`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('main button[type=submit]');
    await page.waitForURL(`${srv.url}/account/security/api-tokens/new`);

    await page.fill('input[name=name]', 'Laptop script');
    await page.check('input[name=scopes][value="profile:read"]');
    await page.check('input[name=scopes][value="tokens:read"]');
    await page.click('#create-token');
    await page.waitForURL(/\/account\/security\/api-tokens\/created\?shown=/);
    const token = (await page.textContent('#api-token'))!.trim();
    expect(token).toMatch(/^sesame_pat_\w{49}$/);

    const copy = page.locator('#copy-token');
    await expect.poll(() => copy.isVisible()).toBe(true);
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    expect(errors).toEqual([]);

    const listed = await api(srv, 'GET', '/1/tokens', { token });
    expect(listed.body.data.map((t: { name: string; scopes: string[] }) => [t.name, t.scopes])).toEqual([
      ['Laptop script', ['profile:read', 'tokens:read']],
    ]);
    await context.close();
  });
});
