// Issue 12's walk-through in a real browser, as a new user clicks through it: Alice registers an
// application for her organization's members-only site, invites Bob as collaborator and grants him
// the application through a team; Bob signs up from the invitation, sees only that application and
// cannot open the member list; Alice requires 2FA and Bob is sent to set it up at his next sign-in;
// Alice blocks Bob and the relying party gets access_denied; Alice unlocks Bob after he locks himself
// out, and both activity logs and Bob's mailbox say so.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, STRONG_PASSWORD, type TestServer } from './helpers/server.ts';
import { startBrowserRig, type BrowserRig } from './helpers/browser.ts';
import { startRp, type TestRp } from './helpers/rp.ts';
import { totpCode, awayFromStepBoundary } from './helpers/mfa.ts';

describe('browser: an organization walk-through (issue 12)', () => {
  let rig: BrowserRig;
  let srv: TestServer;
  let browser: Browser;
  let blog: TestRp;
  beforeAll(async () => {
    rig = await startBrowserRig();
    ({ srv, browser } = rig);
  });
  afterAll(async () => {
    blog?.close();
    await rig?.close();
  });

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: `${srv.dataDir}/org-${name}.png`, fullPage: true });
  async function signIn(page: Page, email: string, password: string) {
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  }
  /** Follows a link by its visible text, as a person would (not by URL). */
  async function follow(page: Page, name: string | RegExp) {
    await Promise.all([
      page.waitForLoadState(),
      page
        .getByRole('link', { name, exact: typeof name === 'string' })
        .first()
        .click(),
    ]);
  }
  async function mail(to: string, kind: string) {
    await srv.drained();
    const found = srv
      .outbox()
      .filter((m) => m.to === to && m.kind === kind)
      .at(-1);
    expect(found, `an email ${kind} to ${to}`).toBeDefined();
    return found!;
  }

  // Twenty-odd pages, three sign-ins and two TOTP enrolments in one story: more than the default minute
  // on a busy machine.
  it(
    'Alice runs a members-only site with Bob as collaborator, 2FA required, blocked then unlocked',
    { timeout: 240_000 },
    async () => {
      const alice = await createUser(srv, { name: 'Alice Martin', givenName: 'Alice', familyName: 'Martin' });
      const bobEmail = `bob-${Date.now()}@example.test`;
      let aliceContext: BrowserContext | undefined;
      let bobContext: BrowserContext | undefined;
      try {
        aliceContext = await browser.newContext({ locale: 'en-US' });
        aliceContext.setDefaultTimeout(8000);
        const a = await aliceContext.newPage();

        // 1. Alice signs in to her account and creates the organization of her site.
        await a.goto(`${srv.url}/account`);
        await signIn(a, alice.email, alice.password);
        await a.waitForSelector('#account-menu');
        await follow(a, 'Organizations');
        await a.click('#new-organization');
        await a.fill('input[name=name]', 'Members Club');
        await a.check('input[name=type][value=association]');
        await shot(a, '01-new-organization');
        await a.click('#create-organization');
        await a.waitForSelector('#done');
        await shot(a, '02-organization-created');
        expect(await a.locator('#org-role').textContent()).toBe('Legal representative');

        // …and registers the members' blog as an application of it (from the Applications page, which
        // works inside the current organization), then configures the blog with its credentials.
        blog = await startRp(srv.url);
        await follow(a, 'Applications');
        expect(await a.locator('#current-organization').textContent()).toContain('Members Club');
        await a.click('#new-app');
        await a.fill('#name', 'Members Blog');
        await a.check('input[name=type][value=web]');
        await a.fill('#redirect_uris', blog.callback);
        await a.getByRole('button', { name: 'Create application' }).click();
        await a.waitForSelector('#client-secret');
        await shot(a, '03-application-created');
        blog.setClient(
          (await a.locator('#client-id').textContent())!,
          (await a.locator('#client-secret').textContent())!,
        );
        await follow(a, 'Done');
        expect(await a.locator('#applications').textContent()).toContain('Members Blog');

        // 2. Alice invites Bob as collaborator, from the organization's Invitations page.
        await follow(a, 'Organizations');
        await follow(a, 'Members Club');
        await follow(a, 'Invitations');
        await a.fill('input[name=email]', bobEmail);
        expect(await a.locator('#role').inputValue()).toBe('collaborator');
        await a.click('#invite');
        await a.waitForSelector('#done');
        expect(await a.locator('#invitations').textContent()).toContain(bobEmail);
        await shot(a, '04-invitation-sent');

        // Bob, in his own browser, opens the emailed link and signs up from it: no address to type or
        // verify, then he signs in.
        const invitation = await mail(bobEmail, 'org_invitation');
        // Nothing anyone typed goes to an address that confirmed nothing: the page names the club.
        expect(invitation.subject).toBe('An invitation to join an organization on Sesame');
        expect(invitation.text).not.toContain('Members Club');
        bobContext = await browser.newContext({ locale: 'en-US' });
        bobContext.setDefaultTimeout(8000);
        const b = await bobContext.newPage();
        // Every answer the blog receives from Sesame, in order (a code or an error).
        const callbacks: URL[] = [];
        b.on('request', (r) => {
          if (r.url().startsWith(blog.callback)) callbacks.push(new URL(r.url()));
        });
        await b.goto(invitation.text.match(/http\S+\/invitation\/[\w-]+/)![0]);
        await shot(b, '05-invitation');
        expect(await b.locator('#invitation-summary').textContent()).toContain('Alice Martin');
        expect(await b.locator('#invitation-summary').textContent()).toContain('Members Club');
        await b.click('#create-account');
        expect(await b.locator('#invited-email').textContent()).toBe(bobEmail);
        await b.fill('input[name=given_name]', 'Bob');
        await b.fill('input[name=family_name]', 'Dupont');
        await b.fill('input[name=password]', STRONG_PASSWORD);
        await b.click('#create');
        // The page says he is in, then the sign-in.
        await b.waitForSelector('#joined');
        expect(await b.locator('main .lead').textContent()).toBe(
          'You are now a member of Members Club as Collaborator.',
        );
        await shot(b, '06-bob-joined');
        await b.click('#sign-in');
        await signIn(b, bobEmail, STRONG_PASSWORD);
        await b.waitForSelector('#account-menu');
        await shot(b, '06b-bob-account');
        expect(await b.locator('#organization_id option[selected]').textContent()).toContain('Members Club');

        // 3. Alice makes a team of the blog's editors with Bob in it and grants it the application.
        await a.reload();
        await follow(a, 'Teams');
        await a.fill('input[name=name]', 'Editors');
        await a.click('#create');
        await a.waitForSelector('#done');
        await a.selectOption('#account_id', { label: bobEmail });
        await a.click('#add');
        await a.waitForSelector('#team-members');
        expect(await a.locator('#team-members').textContent()).toContain('Bob Dupont');
        await shot(a, '07-team');
        await follow(a, 'Applications');
        await follow(a, 'Members Blog');
        await a.click('#app-access');
        await a.selectOption('#team_id', { label: 'Editors' });
        await a.click('#grant-team-submit');
        await a.waitForSelector('#grants');
        expect(await a.locator('#grants').textContent()).toContain('Editors');
        expect(await a.locator('#no-teams').textContent()).toBe('Every team of this organization already has access.');
        await shot(a, '08-access');

        // Bob's Applications page shows that application only, and the member list is not his to see.
        await follow(b, 'Applications');
        expect(await b.locator('#applications tbody tr').count()).toBe(1);
        expect(await b.locator('#applications').textContent()).toContain('Members Blog');
        await shot(b, '09-bob-applications');
        await follow(b, 'Organizations');
        await follow(b, 'Members Club');
        expect(await b.locator('#org-role').textContent()).toBe('Collaborator');
        expect(await b.locator('#org-nav-members').count()).toBe(0);
        const members = await b.goto(`${b.url()}/members`);
        expect(members!.status()).toBe(403);
        await shot(b, '10-bob-members-403');

        // 4. Alice requires two-step verification, from the security console, confirming it.
        await follow(a, 'Organizations');
        await follow(a, 'Members Club');
        await follow(a, 'Security console');
        await a.click('#require-2fa-change');
        await shot(a, '11-require-2fa-confirm');
        // Alice has none herself yet: two members without it.
        expect(await a.locator('#affected').textContent()).toContain('2');
        expect(await a.locator('#self-without-2fa').count()).toBe(1);
        await a.click('#confirm-require');
        await a.waitForLoadState();
        // Without a second factor herself, she is sent to set one up before anything else.
        await a.waitForSelector('#twofa-ways');
        await shot(a, '12-alice-2fa-required');
        await awayFromStepBoundary();
        await a.click('#setup-totp');
        await a.waitForSelector('#qr svg');
        const aliceSecret = (await a.locator('#totp-secret').textContent())!.replace(/\s/g, '');
        await a.fill('input[name=code]', totpCode(aliceSecret, 0));
        await a.locator('main button[type=submit]').click();
        await a.waitForSelector('#codes');
        await a.click('#continue');
        await a.waitForSelector('#mfa-status[data-enabled="yes"]');
        await follow(a, 'Organizations');
        await follow(a, 'Members Club');
        await follow(a, 'Security console');
        expect(await a.locator('#require-2fa-state').getAttribute('data-on')).toBe('yes');
        expect(await a.locator('#without-2fa-count').getAttribute('data-count')).toBe('1');

        // Bob's next sign-in to the blog sends him to set it up first: no consent, no code before.
        await b.goto(`${srv.url}/logout`);
        await b.click('#logout-yes');
        await b.goto(`${blog.url}/login`);
        await signIn(b, bobEmail, STRONG_PASSWORD);
        await b.waitForSelector('#twofa-required');
        await shot(b, '13-bob-2fa-required');
        expect(await b.locator('#requiring-organizations').textContent()).toContain('Members Club');
        await b.click('#set-up-now');
        await awayFromStepBoundary();
        await b.click('#setup-totp');
        await b.waitForSelector('#qr svg');
        const secret = (await b.locator('#totp-secret').textContent())!.replace(/\s/g, '');
        await b.fill('input[name=code]', totpCode(secret, 0));
        await b.locator('main button[type=submit]').click();
        await b.waitForSelector('#codes');
        expect(callbacks).toEqual([]);
        // The codes saved, the sign-in goes on where it stopped: consent, then the blog.
        await b.click('#continue');
        await b.waitForSelector('#allow');
        expect(callbacks).toEqual([]);
        await b.click('#allow');
        await b.waitForSelector('#welcome');
        expect(await b.locator('#email').textContent()).toBe(bobEmail);
        await shot(b, '14-bob-on-the-blog');

        // 5. Alice makes the blog members-only, then blocks Bob from his member page.
        await follow(a, 'Applications');
        await follow(a, 'Members Blog');
        await a.click('#app-access');
        await a.check('#members_only');
        await a.click('#save-members-only');
        await a.waitForSelector('#done');
        expect(await a.locator('#members_only').isChecked()).toBe(true);
        await follow(a, 'Organizations');
        await follow(a, 'Members Club');
        await follow(a, 'Members');
        await shot(a, '15-members');
        await follow(a, 'Bob Dupont');
        await a.click('#member-block');
        await a.waitForSelector('#member-blocked');
        await shot(a, '16-bob-blocked');
        expect(await a.locator('#member-state').textContent()).toBe('Blocked');

        // Bob's next sign-in to the blog (his Sesame session is still open) comes back to it refused.
        await b.goto(`${blog.url}/login`);
        await b.waitForSelector('#error');
        await shot(b, '17-bob-refused');
        expect(await b.locator('#error').textContent()).toBe('access_denied');
        expect(callbacks).toHaveLength(2);
        expect(callbacks[1]!.searchParams.get('error')).toBe('access_denied');
        expect(callbacks[1]!.searchParams.get('code')).toBeNull();

        // 6. Bob lowers his lockout threshold on his Security page, then mistypes his password.
        await b.goto(`${srv.url}/account`);
        await follow(b, 'Security');
        await b.fill('input[name=lockout_threshold]', '3');
        await b.click('#save-protection');
        await b.waitForSelector('#done');
        await b.goto(`${srv.url}/logout`);
        await b.click('#logout-yes');
        for (let i = 0; i < 3; i++) {
          await b.goto(`${blog.url}/login`);
          await signIn(b, bobEmail, `not my password ${i}`);
          await b.waitForSelector('#error');
        }
        await srv.drained();
        expect(srv.outbox().some((m) => m.to === bobEmail && m.kind === 'account_locked')).toBe(true);

        // Alice sees it on his member page and unlocks him.
        await a.reload();
        await a.waitForSelector('#member-locked');
        await a.click('#member-unlock');
        await a.waitForSelector('#security-done');
        await shot(a, '18-bob-unlocked');
        expect(await a.locator('#member-state').textContent()).toBe('Blocked');
        const unlocked = await mail(bobEmail, 'org_unlocked');
        expect(unlocked.subject).toBe('Your Sesame account was unlocked');
        expect(unlocked.text).toContain('Members Club');

        // Both activity logs show it; Bob signs in again (the blog still refuses him: he is blocked).
        await follow(a, 'Activity');
        await shot(a, '19-alice-activity');
        await b.goto(`${srv.url}/account/activity`);
        await signIn(b, bobEmail, STRONG_PASSWORD);
        await b.waitForSelector('input[name=code]');
        await b.fill('input[name=code]', totpCode(secret, 1));
        await b.getByRole('button', { name: 'Verify' }).click();
        await b.waitForSelector('#activity');
        await shot(b, '20-bob-activity');
        const types = (p: Page) =>
          p.locator('#activity tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
        expect((await types(b)).slice(0, 4)).toEqual(['sign_in', 'org_member_unlocked', 'unlocked', 'locked']);
        expect(await b.locator('#activity tbody tr[data-type=org_member_unlocked]').textContent()).toContain(
          alice.email,
        );
        await a.reload();
        expect((await types(a))[0]).toBe('org_member_unlocked');
        expect(await a.locator('#activity tbody tr[data-type=org_member_unlocked]').textContent()).toContain(bobEmail);
      } catch (e) {
        // Where it stopped, for whoever reads the failure.
        for (const c of [aliceContext, bobContext])
          for (const p of c?.pages() ?? []) {
            console.log(
              'PAGE',
              p.url(),
              '\n',
              await p
                .locator('body')
                .innerText()
                .catch(() => ''),
            );
            await shot(p, `failed-${c === aliceContext ? 'alice' : 'bob'}`).catch(() => undefined);
          }
        console.log('screenshots in', srv.dataDir);
        throw e;
      } finally {
        await bobContext?.close();
        await aliceContext?.close();
      }
    },
  );
});
