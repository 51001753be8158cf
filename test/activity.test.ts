// The activity page's filters: dates checked at the edge (a message next to the field, the other
// filters kept), one value per choice of the type filter, only existing applications (told apart
// when two share a name), and a text search in the user's language.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, storageModes, createClient, type TestServer } from './helpers/server.ts';
import { signedInUser } from './helpers/mfa.ts';
import type { Page } from './helpers/agent.ts';

const rowTypes = (page: Page) => [...page.body.matchAll(/<tr data-type="([a-z_]+)"/g)].map((m) => m[1]);
const fieldError = (page: Page, field: string) =>
  new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(page.body)?.[1];

describe.each(storageModes())('activity (%s storage)', (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ mode });
  });
  afterAll(async () => {
    await srv?.stop();
  });
  const record = (accountId: string, type: string, over: Record<string, string> = {}) =>
    srv.deps.repos.activity.record({ accountId, type, ...over });

  it('activity.far-future-date-400: To = 9999-12-31 is refused next to the field, the other filters kept', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/activity?to=9999-12-31&type=all%3Asign_in&q=Blog');
    expect(page.status).toBe(400);
    expect(fieldError(page, 'to')).toBe('Choose a date between 1970 and 2999.');
    expect(page.body).toMatch(/id="to"[^>]*value="9999-12-31"[^>]*aria-invalid="true" aria-describedby="to-error"/);
    expect(page.body).toContain('<option value="all:sign_in" selected>');
    expect(page.body).toMatch(/id="q"[^>]*value="Blog"/);
    expect(page.body).not.toContain('id="error-code"'); // the page itself, not the error page
  });

  it('activity.impossible-date-refused: from=2026-02-31 is not silently ignored', async () => {
    const user = await signedInUser(srv);
    const page = await user.agent.go('/account/activity?from=2026-02-31');
    expect(page.status).toBe(400);
    expect(fieldError(page, 'from')).toContain('2026-02-31');
    expect(fieldError(page, 'from')).toContain('is not a date');
    const reversed = await user.agent.go('/account/activity?from=2026-03-02&to=2026-03-01');
    expect(reversed.status).toBe(400);
    expect(fieldError(reversed, 'to')).toBe('This date is before the “From” date.');
    expect((await user.agent.go('/account/activity?from=2024-02-29&to=2024-03-01')).status).toBe(200);
  });

  it('activity.group-and-type-distinct: "Signed in" and "All sign-ins" are two filters', async () => {
    const user = await signedInUser(srv);
    await record(user.account.id, 'sign_in_failed');
    await record(user.account.id, 'locked');
    const all = await user.agent.go('/account/activity');
    const typeSelect = /<select id="type"[\s\S]*?<\/select>/.exec(all.body)![0];
    const values = [...typeSelect.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(values).toContain('sign_in');
    expect(new Set(values).size).toBe(values.length);
    const signedIn = await user.agent.go('/account/activity?type=sign_in');
    expect(new Set(rowTypes(signedIn))).toEqual(new Set(['sign_in']));
    const group = await user.agent.go('/account/activity?type=all%3Asign_in');
    expect(new Set(rowTypes(group))).toEqual(new Set(['sign_in', 'sign_in_failed', 'locked']));
  });

  it('activity.applications-filter-existing-only: deleted ones are gone, two of one name are told apart', async () => {
    const user = await signedInUser(srv);
    const first = await createClient(srv, { type: 'web', name: 'Shop' });
    const second = await createClient(srv, { type: 'web', name: 'Shop' });
    const gone = await createClient(srv, { type: 'web', name: 'Old forum' });
    for (const c of [first, second, gone])
      await record(user.account.id, 'sign_in', { clientId: c.clientId, application: c.app.name });
    await srv.deps.repos.applications.delete(gone.app.id);
    const page = await user.agent.go('/account/activity');
    const choices = [...page.body.matchAll(/<option value="([^"]+)" >([^<]*)</g)]
      .filter((m) => m[1] !== 'sign_in' && !m[1]!.includes(':') && !/^[a-z_]+$/.test(m[1]!))
      .map((m) => m[2]);
    expect(choices).toContain(`Shop (${first.clientId})`);
    expect(choices).toContain(`Shop (${second.clientId})`);
    expect(page.body).not.toContain(`value="${gone.clientId}"`);
    expect(page.body).toContain('Old forum'); // its entry is still in the log
    const filtered = await user.agent.go(`/account/activity?app=${second.clientId}`);
    expect(rowTypes(filtered)).toEqual(['sign_in']);
    expect((await user.agent.go(`/account/activity?app=${gone.clientId}`)).status).toBe(400);
  });

  it('activity.search: by description in the user’s language, application, address and device', async () => {
    const user = await signedInUser(srv, { locale: 'fr' });
    const id = user.account.id;
    await record(id, 'sign_in_failed', { ip: '203.0.113.7', device: 'Firefox sur Linux' });
    await record(id, 'password_changed');
    await record(id, 'sign_in', { clientId: 'x', application: 'Blog 100% bio' });
    const search = async (q: string) => rowTypes(await user.agent.go(`/account/activity?q=${encodeURIComponent(q)}`));
    expect(new Set(await search('mot de passe'))).toEqual(new Set(['sign_in_failed', 'password_changed']));
    expect(await search('modifie')).toEqual(['password_changed']); // without the accent
    expect(await search('203.0.113')).toEqual(['sign_in_failed']);
    expect(await search('firefox')).toEqual(['sign_in_failed']);
    expect(await search('100%')).toEqual(['sign_in']); // % is a character, not a wildcard
    expect(await search('_')).toEqual([]);
    const page = await user.agent.go('/account/activity?q=firefox&type=sign_in');
    expect(page.body).toContain('id="no-activity"'); // search and filters combine
    expect(page.body).toContain('<label for="q">Rechercher</label>');
  });
});
