// A tiny browser for protocol tests: a cookie jar, manual redirects, and form posting. It speaks
// only HTTP to the real server.
import crypto from 'node:crypto';

export interface Page {
  status: number;
  url: string;
  body: string;
  headers: Headers;
}

/** What a test server still sends after answering (the emails and SMS of public forms,
 *  notify/deferred.ts), by origin: an agent waits for it after each response, as a user opens the
 *  mailbox once the page has loaded. Timing tests measure with fetch itself. */
export const afterResponse = new Map<string, () => Promise<void>>();

/** A form's fields; a list is one name sent several times (checkboxes). */
export type FormFields = Record<string, string | string[]>;

export class Agent {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly origin: string,
    readonly headers: Record<string, string> = {},
  ) {}

  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=thu, 01 jan 1970/i.test(a.trim())) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(
    url: string,
    init: { method?: string; form?: FormFields; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const full = new URL(url, this.origin).href;
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    if (this.cookies.size && full.startsWith(this.origin)) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      // A list is one field sent several times (checkboxes), as a browser does.
      const pairs = Object.entries(init.form).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x]));
      body = new URLSearchParams(pairs).toString();
    }
    const res = await fetch(full, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.store(res);
    await afterResponse.get(this.origin)?.();
    return res;
  }

  /** Follows redirects while they stay on the server; returns the page reached, or the external
   *  URL the server redirected to (a relying party's redirect_uri). */
  async go(url: string, init: { method?: string; form?: FormFields } = {}): Promise<Page> {
    let res = await this.request(url, init);
    let current = new URL(url, this.origin).href;
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (!next.startsWith(this.origin + '/')) return { status: res.status, url: next, body: '', headers: res.headers };
      current = next;
      res = await this.request(next);
    }
    return { status: res.status, url: current, body: await res.text(), headers: res.headers };
  }

  /** Submits a form found on a page: its action and hidden inputs, plus the given fields. */
  async submit(page: Page, fields: FormFields = {}, formSelector?: string): Promise<Page> {
    const form = findForm(page.body, formSelector);
    return this.go(new URL(form.action, page.url).href, { method: 'POST', form: { ...form.hidden, ...fields } });
  }
}

export function findForm(html: string, actionContains?: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  // A selector ending in a quote matches the end of the action exactly ('/second-factor"').
  const matches = (action: string) =>
    actionContains!.endsWith('"') ? action.endsWith(actionContains!.slice(0, -1)) : action.includes(actionContains!);
  // Without a selector: the page's own first form, not the organization switcher every account
  // page carries in its menu (before the page's content).
  const match = actionContains
    ? forms.find((f) => matches(f[1]!))
    : forms.find((f) => !f[0].includes('id="org-switcher"'));
  if (!match)
    throw new Error(
      `no form${actionContains ? ` with action containing ${actionContains}` : ''} in page:\n${html.slice(0, 2000)}`,
    );
  const hidden: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
    hidden[m[1]!] = decodeEntities(m[2]!);
  return { action: decodeEntities(match[1]!), hidden };
}

export function decodeEntities(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/g, '/');
}

export function pkcePair() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export function basicAuth(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

/** Plain HTTP Basic (RFC 7617), as a mail, calendar or file-sync client sends a login and password:
 *  not form-encoded, unlike a client's credentials at the token endpoint (basicAuth). */
export function plainBasic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}

/** The query of a plain authorization request (scope openid, state "s") for `client`. */
export function authorizeQuery(client: { clientId: string; redirectUri: string }, extra: Record<string, string> = {}) {
  return new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: 's',
    ...extra,
  });
}

export interface LoginParams {
  clientId: string;
  redirectUri: string;
  email: string;
  password: string;
  scope?: string;
  extra?: Record<string, string>;
  consent?: boolean;
  /** Answers the second-factor page when the account has 2FA on. */
  secondFactor?: (page: Page) => Promise<Page>;
}

/** The whole browser side of an authorization-code login. Returns the redirect back to the RP. */
export async function authorize(
  agent: Agent,
  p: LoginParams,
): Promise<{ redirect: URL; code: string | null; loginPage: Page }> {
  const q = new URLSearchParams({
    client_id: p.clientId,
    redirect_uri: p.redirectUri,
    response_type: 'code',
    scope: p.scope ?? 'openid email profile',
    state: crypto.randomBytes(8).toString('hex'),
    ...p.extra,
  });
  let page = await agent.go(`/authorize?${q}`);
  const loginPage = page;
  if (!page.url.startsWith(agent.origin))
    return { redirect: new URL(page.url), code: new URL(page.url).searchParams.get('code'), loginPage };
  if (page.body.includes('/login"')) {
    page = await agent.submit(page, { email: p.email, password: p.password }, '/login');
  }
  if (p.secondFactor && page.url.startsWith(agent.origin) && page.body.includes('/second-factor"')) {
    page = await p.secondFactor(page);
  }
  if (page.url.startsWith(agent.origin) && page.body.includes('/confirm"') && p.consent !== false) {
    page = await agent.submit(page, {}, '/confirm');
  }
  if (page.url.startsWith(agent.origin))
    throw Object.assign(
      new Error(`login did not return to the RP: ${page.status} ${page.url}\n${page.body.slice(0, 1500)}`),
      { page },
    );
  const redirect = new URL(page.url);
  return { redirect, code: redirect.searchParams.get('code'), loginPage };
}

/** Signs in (authorize, as `authorize` does) and redeems the code at /token: the ID token, as a
 *  confidential relying party gets it. The agent's session makes later calls skip the login page. */
export async function signInForIdToken(agent: Agent, p: LoginParams & { clientSecret: string }): Promise<string> {
  const { code } = await authorize(agent, p);
  const res = await agent.request('/token', {
    method: 'POST',
    form: {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: p.redirectUri,
      client_id: p.clientId,
      client_secret: p.clientSecret,
    },
  });
  const body = (await res.json()) as { id_token?: string };
  if (!body.id_token) throw new Error(`no ID token: ${res.status} ${JSON.stringify(body)}`);
  return body.id_token;
}
