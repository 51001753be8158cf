// The browser's oidc-provider session, from one of our own routes (oidc-provider types its
// argument as its own context; ours is the same Koa context).
import type Provider from 'oidc-provider';
import type { Ctx, SesameState } from '../http/context.ts';

export function sessionOf<S extends SesameState>(provider: Provider, ctx: Ctx<S>) {
  return provider.Session.get(ctx as never);
}
