// "Something about this account's credentials changed" — a password, its second factors, a lock, a
// block, an app password revoked — told to every node (the store's pub/sub), so what a node keeps in
// memory about the account (the sync channel's answer cache: app-passwords/verify.ts) is dropped at
// once everywhere. Fire-and-forget: a message lost while the store is down is bounded by the
// holder's own short time limit.
import type { Store } from './store.ts';
import type { Logger } from '../lib/logger.ts';

const CHANNEL = 'account-changed';

export function createAccountChanges(deps: { store: Store; logger: Logger }) {
  const handlers = new Set<(accountId: string) => void>();
  let stop: (() => Promise<void>) | undefined;
  const deliver = (accountId: string) => {
    for (const h of handlers) h(accountId);
  };
  return {
    /** Tells every node (this one at once, before the message goes). Resolves once the store has
     *  taken the message (never rejects), so that a caller answering after it — a revocation —
     *  answers after every node was told. */
    announce(accountId: string): Promise<void> {
      deliver(accountId);
      return deps.store.publish(CHANNEL, accountId).catch((err: unknown) => {
        deps.logger.warn({ err }, 'account change not published');
      });
    },
    /** Starts listening (once per process); handlers run for this node's changes and the others'. */
    async listen(): Promise<void> {
      if (stop) return;
      stop = await deps.store.subscribe(CHANNEL, deliver);
    },
    onChange(handler: (accountId: string) => void): void {
      handlers.add(handler);
    },
    async close(): Promise<void> {
      await stop?.();
      stop = undefined;
    },
  };
}
export type AccountChanges = ReturnType<typeof createAccountChanges>;
