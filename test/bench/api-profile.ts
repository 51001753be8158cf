// The `npm run bench` scenarios of the REST API: GET /1/profile with a personal API token and with
// the OAuth access token of an ordinary sign-in, each against a bare koa handler on its own port
// doing the same lookup in the same database and store — the token row by its HMAC with its
// account (one query) for the personal token, the access token's store key then the account for
// the OAuth token — and answering the same JSON. What the ratio shows is what Sesame's API layer
// costs on top of the lookup: bearer parsing, the rate-limit counters in the store, the scope
// check, an OAuth token's verification and client check, the envelope and headers.
//
// Everything a scenario needs comes in as arguments (a database handle, the store, the HMAC key,
// the tokens), so that when the server runs in its own process the bench only opens its own
// connections and calls the same functions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Db } from '../../src/db/client.ts';
import type { Store } from '../../src/store/store.ts';
import { createApiTokensRepo } from '../../src/db/repositories/api-tokens.ts';
import { createAccountsRepo } from '../../src/db/repositories/accounts.ts';
import { hashApiToken, looksLikeApiToken } from '../../src/api/token-format.ts';
import { isUsable } from '../../src/api/personal-tokens.ts';
import { bearerToken } from '../../src/api/authenticate.ts';
import { profileOf } from '../../src/api/routes/profile.ts';
import { storeKey } from '../../src/oidc/adapter.ts';

export interface BareApiDeps {
  db: Db;
  store: Store;
  hashKey: Buffer;
}

/** A koa app answering GET /1/profile for a personal token or an OAuth access token, with nothing
 *  but the lookup: no rate limit, no scope check, no grant or client check, no security headers. */
export async function startBareProfileApi(deps: BareApiDeps) {
  const tokens = createApiTokensRepo(deps.db);
  const accounts = createAccountsRepo(deps.db);
  /** The token row and its account in one query (personal), or the store key then the account. */
  async function accountOf(token: string) {
    if (looksLikeApiToken(token)) {
      const found = await tokens.findByHashWithAccount(hashApiToken(deps.hashKey, token));
      return found && isUsable(found.token, Date.now()) ? found.account : undefined;
    }
    const raw = await deps.store.get(storeKey('AccessToken', token));
    const payload = raw ? (JSON.parse(raw) as { accountId?: string; exp?: number }) : undefined;
    const live = payload?.exp && payload.exp > Date.now() / 1000 ? payload.accountId : undefined;
    return live ? accounts.findById(live) : undefined;
  }
  const app = new Koa();
  app.use(async (ctx) => {
    const token = bearerToken(ctx.get('authorization'));
    const account = token ? await accountOf(token) : undefined;
    if (!account) {
      ctx.status = 401;
      ctx.body = {
        result: 'error',
        error: { code: 'not_authorized', description: 'A valid access token is required.' },
      };
      return;
    }
    ctx.body = { result: 'success', data: profileOf(account) };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** One GET /1/profile with `token` at `origin`; throws unless it answers the user (by integer id). */
export function profileCall(origin: string, token: string, userId: number): () => Promise<void> {
  return async () => {
    const res = await fetch(`${origin}/1/profile`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { data?: { id?: unknown } };
    if (res.status !== 200 || body.data?.id !== userId) throw new Error(`profile ${res.status}`);
  };
}
