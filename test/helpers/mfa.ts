// Second-factor helpers for tests: sign in to the account pages, compute TOTP codes the way an
// authenticator app does, enrol an app through the Security page, redeem codes for ID tokens.
import { generateSync } from 'otplib';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import { createUser, type TestServer } from './server.ts';
import { testClock } from './clock.ts';
import { Agent, decodeEntities, type Page } from './agent.ts';

/** Signs in through the one login flow (answering a second factor if asked) and lands on `path`. */
export async function signInToAccount(
  srv: TestServer,
  agent: Agent,
  email: string,
  password: string,
  path = '/account/security',
  secondFactor?: (page: Page) => Promise<Page>,
): Promise<Page> {
  const page = await agent.go(path);
  expect(page.body).toContain('name="password"');
  let back = await agent.submit(page, { email, password }, '/login');
  if (back.body.includes('/second-factor"')) {
    if (!secondFactor) throw new Error('a second factor was asked for');
    back = await secondFactor(back);
  }
  expect(back.url).toBe(`${srv.url}${path}`);
  return back;
}

/** The code an authenticator app shows, `steps` periods from now (RFC 6238, SHA-1, 6 digits, 30 s). */
export function totpCode(secret: string, steps = 0): string {
  return generateSync({
    secret,
    epoch: Math.floor(testClock.now() / 1000) + steps * 30,
    period: 30,
    digits: 6,
    algorithm: 'sha1',
  });
}

/** Moves the servers' clock (forward) to the middle of a 30-second step, so that "now", "one step
 *  ago" and "one step ahead" mean the same to the test and to the server for the next 15 seconds. */
export async function awayFromStepBoundary(): Promise<void> {
  const into = (testClock.now() / 1000) % 30;
  if (into < 5 || into > 25) testClock.advance(((45 - into) % 30) * 1000);
}

function backupCodesIn(page: Page): string[] {
  return [...page.body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Enrols an authenticator app on the Security page (already signed in, recently). The enrolment
 *  spends the code of one step ago, leaving "now" and "one step ahead" for sign-ins. */
export async function enrolTotp(
  agent: Agent,
  name = 'My phone',
): Promise<{ secret: string; page: Page; backupCodes: string[] }> {
  await awayFromStepBoundary();
  const form = await agent.go('/account/security/totp/new');
  expect(form.status).toBe(200);
  expect(form.body).toContain('<svg');
  const secret = decodeEntities(form.body.match(/<code id="totp-secret">([^<]+)<\/code>/)![1]!).replace(/\s/g, '');
  const page = await agent.submit(form, { name, code: totpCode(secret, -1) }, '/account/security/totp"');
  return { secret, page, backupCodes: backupCodesIn(page) };
}

export async function redeem(
  srv: TestServer,
  client: { clientId: string; clientSecret: string; redirectUri: string },
  code: string,
) {
  const res = await fetch(`${srv.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  });
  const body = (await res.json()) as { id_token: string; access_token: string; refresh_token?: string };
  expect(res.status).toBe(200);
  return { ...body, claims: decodeJwt(body.id_token) as { amr?: string[]; acr?: string; sub: string } };
}

/** A user signed in to their account pages in a fresh browser (recently: changes need no password). */
export async function signedInUser(
  srv: TestServer,
  over: Parameters<typeof createUser>[1] = {},
  headers: Record<string, string> = {},
) {
  const user = await createUser(srv, over);
  const agent = new Agent(srv.url, headers);
  await signInToAccount(srv, agent, user.email, user.password);
  return { ...user, agent };
}

/** A fresh browser starts signing in to `client` and passes the password step; `page` is what
 *  comes next (the second-factor page for an account with 2FA on). */
export async function passwordStep(
  srv: TestServer,
  client: { clientId: string; redirectUri: string },
  email: string,
  password: string,
  opts: { extra?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const agent = new Agent(srv.url, opts.headers);
  const q = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid email',
    state: 's',
    ...opts.extra,
  });
  const login = await agent.go(`/authorize?${q}`);
  const page = await agent.submit(login, { email, password }, '/login');
  return { agent, page, uid: new URL(login.url).pathname.split('/')[2]! };
}
