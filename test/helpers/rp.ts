// A minimal confidential relying party on loopback, written the way WordPress's plugin behaves:
// code flow, no PKCE, no nonce, client_secret_post, then userinfo by POST.
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface TestRp {
  url: string;
  callback: string;
  setClient(id: string, secret: string): void;
  close(): void;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startRp(issuer: string): Promise<TestRp> {
  let clientId = '';
  let clientSecret = '';
  const states = new Set<string>();
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const callback = `http://${req.headers.host}/callback`;
    if (url.pathname === '/login') {
      const state = crypto.randomBytes(8).toString('hex');
      states.add(state);
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: callback,
        scope: 'email profile openid',
        state,
        ...Object.fromEntries(
          ['ui_locales', 'acr_values', 'response_mode']
            .filter((p) => url.searchParams.get(p))
            .map((p) => [p, url.searchParams.get(p)!]),
        ),
      });
      res.writeHead(302, { location: `${issuer}/authorize?${q}` }).end();
      return;
    }
    if (url.pathname === '/callback') {
      // response_mode=form_post: the answer comes as a POSTed form instead of the query.
      const answer = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
      const code = answer.get('code');
      if (!code || !states.delete(answer.get('state') ?? '')) {
        res.writeHead(400, { 'content-type': 'text/html' }).end(`<p id="error">${answer.get('error')}</p>`);
        return;
      }
      const tok = (await (
        await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: callback,
            client_id: clientId,
            client_secret: clientSecret,
            scope: 'email profile openid',
          }),
        })
      ).json()) as { access_token: string; id_token: string };
      // The ID token is verified against the JWKS, as a real plugin would; amr/acr come from it.
      const { payload } = await jwtVerify(tok.id_token, jwks, { issuer, audience: clientId });
      const ui = (await (
        await fetch(`${issuer}/oauth2/userinfo`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: '',
        })
      ).json()) as Record<string, string>;
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><h1 id="welcome">Welcome ${ui.name}</h1><p id="email">${ui.email ?? 'no email'}</p><p id="sub">${ui.sub}</p><p id="amr">${(payload.amr as string[] | undefined)?.join(' ')}</p><p id="acr">${payload.acr}</p>`,
        );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    callback: `${url}/callback`,
    setClient(id, secret) {
      clientId = id;
      clientSecret = secret;
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A relying party's back-channel logout endpoint on loopback: keeps each logout token it is sent. */
export async function startLogoutReceiver(): Promise<{ url: string; logouts: string[]; close(): void }> {
  const logouts: string[] = [];
  const server = http.createServer(async (req, res) => {
    logouts.push(new URLSearchParams(await readBody(req)).get('logout_token') ?? '');
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bcl`,
    logouts,
    close: () => server.close(),
  };
}
