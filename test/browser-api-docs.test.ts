// The API reference page in Debian's Chromium: Swagger UI, served from our own origin under our
// CSP (no CDN, no inline script), reads the generated document and lists its operations.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';

describe('API reference page (browser)', () => {
  let rig: BrowserRig;
  beforeAll(async () => {
    rig = await startBrowserRig();
  }, 60_000);
  afterAll(() => rig?.close());

  it('api.reference-page: renders every operation of /1/openapi.json with no CSP violation or script error', async () => {
    const page = await rig.browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(rig.srv.url)) outside.push(r.url());
    });
    await page.goto(`${rig.srv.url}/docs/api`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const doc = (await (await fetch(`${rig.srv.url}/1/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(await page.locator('.opblock').count()).toBe(operations);
    await expect(page.locator('.opblock-summary-path', { hasText: '/profile' }).first().isVisible()).resolves.toBe(
      true,
    );
    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);
});
