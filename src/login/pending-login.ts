// A sign-in whose password is done and whose second factor is not: it waits in the store under the
// interaction's uid (which only the browser holding that interaction's cookie can use), as long as
// an interaction may last, and is spent once by the factor that completes it.
import type { Store } from '../store/store.ts';

export interface PendingLogin {
  accountId: string;
  amr: string[];
  /** Whether the account's email was confirmed when its password was checked: a login without it
   *  does not finish (login/finish.ts). */
  emailVerified: boolean;
}

const PENDING_TTL = 15 * 60;

export function createPendingLogins(store: Store) {
  const key = (uid: string) => `login-pending:${uid}`;
  const unconfirmed = (uid: string) => `login-unconfirmed:${uid}`;
  return {
    async start(uid: string, login: PendingLogin): Promise<void> {
      await store.set(key(uid), JSON.stringify(login), PENDING_TTL);
    },
    async get(uid: string): Promise<PendingLogin | undefined> {
      const raw = await store.get(key(uid));
      return raw ? (JSON.parse(raw) as PendingLogin) : undefined;
    },
    /** A right password for an account whose email is not confirmed: the "confirm your email
     *  first" page of this interaction may send the link again. */
    async awaitEmail(uid: string, accountId: string): Promise<void> {
      await store.set(unconfirmed(uid), accountId, PENDING_TTL);
    },
    async awaitingEmail(uid: string): Promise<string | undefined> {
      return (await store.get(unconfirmed(uid))) ?? undefined;
    },
    /** GETDEL: of two parallel successes, only one gets the login back. */
    async spend(uid: string): Promise<PendingLogin | undefined> {
      const raw = await store.getDel(key(uid));
      return raw ? (JSON.parse(raw) as PendingLogin) : undefined;
    },
  };
}
export type PendingLogins = ReturnType<typeof createPendingLogins>;
