// Post/redirect/get for what a POST creates and may show only once (a client secret, backup codes):
// the POST keeps the result here and 303s to a GET page that takes it. A reload of that page finds
// nothing — it says the result was shown once — and creates nothing, as a reload of the POST did.
// Kept under a random id in a key bound to the browser's session (another session's request for the
// same id finds nothing and spends nothing), encrypted, for a few minutes, taken with GETDEL.
import type Provider from 'oidc-provider';
import type { Ctx } from '../http/context.ts';
import type { Store } from '../store/store.ts';
import { decrypt, encrypt, isLinkToken, randomToken } from '../lib/crypto.ts';
import { sessionOf } from '../oidc/session.ts';

/** The redirect is followed at once; a result not picked up by then is better lost than kept. */
const SHOWN_ONCE_TTL = 5 * 60;

/** What each kind of result holds. */
export interface ShownOnceKinds {
  'app-credentials': { appId: string; clientSecret?: string; created: boolean };
  'backup-codes': { codes: string[]; first: boolean };
  /** A new personal API token (api-tokens-routes.ts) and its row. */
  'api-token': { token: string; tokenId: string };
  /** A new app password (app-passwords/routes.ts) and its row. */
  'app-password': { secret: string; appPasswordId: string };
}

export function createShownOnce(deps: { provider: Provider; store: Store; config: { encryptionKey: Buffer } }) {
  const { store, config } = deps;
  async function keyFor(ctx: Ctx, kind: keyof ShownOnceKinds, id: string): Promise<string | undefined> {
    const session = await sessionOf(deps.provider, ctx);
    return session.accountId ? `shown-once:${kind}:${session.accountId}:${session.jti}:${id}` : undefined;
  }
  return {
    /** Keeps the result for this session; returns the id its page takes it by. */
    async keep<K extends keyof ShownOnceKinds>(ctx: Ctx, kind: K, value: ShownOnceKinds[K]): Promise<string> {
      const id = randomToken(24);
      const key = await keyFor(ctx, kind, id);
      if (!key) throw new Error('shown-once: no signed-in session');
      await store.set(key, encrypt(config.encryptionKey, JSON.stringify(value)), SHOWN_ONCE_TTL);
      return id;
    },
    /** The result, the first time only (atomic); undefined once shown, expired, or not this session's. */
    async take<K extends keyof ShownOnceKinds>(ctx: Ctx, kind: K, id: unknown): Promise<ShownOnceKinds[K] | undefined> {
      if (!isLinkToken(id)) return undefined;
      const key = await keyFor(ctx, kind, id);
      const boxed = key ? await store.getDel(key) : null;
      return boxed ? (JSON.parse(decrypt(config.encryptionKey, boxed)) as ShownOnceKinds[K]) : undefined;
    },
  };
}
export type ShownOnce = ReturnType<typeof createShownOnce>;
