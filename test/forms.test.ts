// Field errors on every form: the message next to the field that failed, in the user's language, wired
// for screen readers (aria-invalid, aria-describedby), with what the user typed kept.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startServer,
  createUser,
  createClient,
  uniqueEmail,
  STRONG_PASSWORD,
  type TestServer,
} from './helpers/server.ts';
import { Agent, decodeEntities, type Page } from './helpers/agent.ts';
import { signInToAccount, enrolTotp } from './helpers/mfa.ts';

/** The input named `name`, its error paragraph and whether they are tied together. */
function field(page: Page, name: string) {
  const input = page.body.match(new RegExp(`<input[^>]*name="${name}"[^>]*>`))?.[0] ?? '';
  const id = input.match(/ id="([^"]+)"/)?.[1];
  const error = page.body.match(new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`))?.[1];
  return {
    input,
    invalid: input.includes('aria-invalid="true"'),
    describedByError: new RegExp(`aria-describedby="[^"]*${id}-error`).test(input),
    error: error === undefined ? undefined : decodeEntities(error),
    value: decodeEntities(input.match(/ value="([^"]*)"/)?.[1] ?? ''),
  };
}

describe('forms', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('form.signup-field-errors: each failed field says what is wrong next to it, in French, input kept', async () => {
    const agent = new Agent(srv.url, { 'accept-language': 'fr' });
    const page = await agent.go('/signup');
    const back = await agent.submit(page, {
      given_name: '',
      family_name: 'Curie',
      email: 'not-an-email',
      password: '',
    });
    expect(back.status).toBe(400);
    const given = field(back, 'given_name');
    expect(given.invalid).toBe(true);
    expect(given.describedByError).toBe(true);
    expect(given.error).toBe('Ce champ est obligatoire.');
    expect(field(back, 'email').error).toContain('adresse e-mail valide');
    expect(field(back, 'email').value).toBe('not-an-email');
    expect(field(back, 'family_name').invalid).toBe(false);
    expect(field(back, 'family_name').value).toBe('Curie');
    expect(field(back, 'password').error).toBe('Ce champ est obligatoire.');
    expect(field(back, 'password').value).toBe('');
  });

  it('form.empty-sign-in-names-the-field: an empty sign-in form asks for the email, not "wrong email or password"', async () => {
    const web = await createClient(srv, { type: 'web' });
    const agent = new Agent(srv.url);
    const q = new URLSearchParams({
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid',
    });
    const page = await agent.go(`/authorize?${q}`);
    const back = await agent.submit(page, { email: '', password: '' }, '/login');
    expect(back.status).toBe(400);
    expect(back.body).not.toContain('Wrong email or password');
    expect(field(back, 'email').error).toBe('This field is required.');
    expect(field(back, 'password').error).toBe('This field is required.');
  });

  it('form.profile-and-protection-field-errors: a too-long name and an out-of-range threshold are named', async () => {
    const email = uniqueEmail('forms');
    await createUser(srv, { email, locale: 'de' });
    const agent = new Agent(srv.url);
    const profile = await signInToAccount(srv, agent, email, STRONG_PASSWORD, '/account/profile');
    const back = await agent.submit(
      profile,
      { given_name: 'x'.repeat(300), family_name: 'Curie' },
      '/account/profile"',
    );
    expect(back.status).toBe(400);
    expect(field(back, 'given_name').error).toBe('Das ist zu lang.');
    expect(field(back, 'family_name').value).toBe('Curie');

    const security = await agent.go('/account/security');
    const prot = await agent.submit(security, { lockout_threshold: '5000' }, '/protection"');
    expect(prot.status).toBe(400);
    expect(field(prot, 'lockout_threshold').error).toBe('Geben Sie eine Zahl im erlaubten Bereich ein.');
    expect(field(prot, 'lockout_threshold').value).toBe('5000');
  });

  it('form.long-method-name-says-too-long: a 128-character method name is "too long", not "give it a name"', async () => {
    const email = uniqueEmail('forms');
    await createUser(srv, { email });
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, email, STRONG_PASSWORD);
    await enrolTotp(agent);
    const security = await agent.go('/account/security');
    const renameLink = security.body.match(/href="(\/account\/security\/factors\/[^"]+\/rename)"/)?.[1];
    expect(renameLink).toBeDefined();
    const rename = await agent.go(renameLink!);
    const back = await agent.submit(rename, { name: 'n'.repeat(128) }, '/rename"');
    expect(back.status).toBe(400);
    expect(back.body).not.toContain('Give this method a name');
    expect(field(back, 'name').error).toBe('This is too long.');
    expect(field(back, 'name').value).toBe('n'.repeat(128));
  });

  it('form.password-with-email-says-why: a new password containing the email is refused next to the field, saying why', async () => {
    const email = uniqueEmail('zoe');
    await createUser(srv, { email });
    const agent = new Agent(srv.url);
    await signInToAccount(srv, agent, email, STRONG_PASSWORD);
    const page = await agent.go('/account/profile/password');
    const back = await agent.submit(
      page,
      { current_password: STRONG_PASSWORD, new_password: `${email}1`, new_password_again: `${email}1` },
      '/password"',
    );
    expect(back.status).toBe(400);
    const pw = field(back, 'new_password');
    expect(pw.invalid).toBe(true);
    expect(pw.describedByError).toBe(true);
    expect(pw.error).toBe('Your password must not contain your email address or your name.');
  });
});
