// The browser's oidc-provider session, from one of our own routes (oidc-provider types its
// argument as its own context; ours is the same Koa context). Looked up once per request: the CSRF
// check, requireAccount and the handlers all ask for it.
import type Provider from 'oidc-provider';
import type { Ctx, SesameState } from '../http/context.ts';

type Session = Awaited<ReturnType<Provider['Session']['get']>>;
const looked = new WeakMap<object, Promise<Session>>();

export function sessionOf<S extends SesameState>(provider: Provider, ctx: Ctx<S>): Promise<Session> {
  let session = looked.get(ctx);
  if (!session) {
    session = provider.Session.get(ctx as never);
    looked.set(ctx, session);
  }
  return session;
}

/** The uid of the signed-in session this browser presents (stable across oidc-provider's id
 *  rotations), or undefined — without any I/O when the browser has no session cookie. */
export async function signedInSessionUid(provider: Provider, ctx: Ctx): Promise<string | undefined> {
  if (!ctx.cookies.get(provider.cookieName('session'))) return undefined;
  const session = await sessionOf(provider, ctx);
  return session.accountId ? session.uid : undefined;
}
