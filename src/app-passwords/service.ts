// App passwords as their owner manages them (the Security page, and the REST API): created with a
// name, shown once, listed with their last use, revoked one by one or all at once. Checking them is
// verify.ts. Every change is told to every node (store/account-changes.ts), so a revoked app password
// stops working at once, whatever a node had remembered.
import crypto from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { AppPasswordsRepo, AppPasswordRow } from '../db/repositories/app-passwords.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { AccountChanges } from '../store/account-changes.ts';
import { hashAppPassword, newAppPassword, normalizeAppPassword } from './format.ts';

/** An app password's name: what its owner recognises it by ("Thunderbird on laptop"). */
export const APP_PASSWORD_NAME_MAX = 100;

/** Who acted, for the activity log: the request's IP and device. */
type By = Pick<RequestInfo, 'ip' | 'device'>;

export interface AppPasswordsDeps {
  config: { hashKey: Buffer };
  clock: Clock;
  repo: AppPasswordsRepo;
  activity: ActivityRepo;
  accountChanges: AccountChanges;
}

export function createAppPasswords(deps: AppPasswordsDeps) {
  const { repo, clock } = deps;
  async function recordRevoked(accountId: string, rows: AppPasswordRow[], by: By) {
    for (const row of rows)
      await deps.activity.record({
        accountId,
        type: 'app_password_revoked',
        ip: by.ip,
        device: by.device,
        details: { name: row.name },
      });
    if (rows.length) await deps.accountChanges.announce(accountId);
  }
  return {
    /** Creates one; the only time its value exists outside the caller is this return (grouped for
     *  display: "abcd-efgh-jkmn-pqrs"). */
    async create(accountId: string, name: string, by: By): Promise<{ secret: string; row: AppPasswordRow }> {
      const secret = newAppPassword();
      const normalized = normalizeAppPassword(secret) ?? secret;
      const row = await repo.insert({
        id: crypto.randomUUID(),
        accountId,
        name,
        secretHash: hashAppPassword(deps.config.hashKey, normalized),
        createdAt: new Date(clock.now()),
      });
      await deps.activity.record({
        accountId,
        type: 'app_password_created',
        ip: by.ip,
        device: by.device,
        details: { name },
      });
      return { secret, row };
    },
    /** Newest first; never a secret (none is kept). */
    list: (accountId: string) => repo.listByAccount(accountId),
    count: (accountId: string) => repo.countByAccount(accountId),
    /** Revokes those of `ids` that are this account's; an id of another account's, or of none, is
     *  only reported back as not found. */
    async revoke(accountId: string, ids: readonly string[], by: By) {
      const unique = [...new Set(ids)];
      const rows = await repo.deleteOwn(accountId, unique);
      await recordRevoked(accountId, rows, by);
      const gone = new Set(rows.map((r) => r.id));
      return { revoked: rows, notFound: unique.filter((id) => !gone.has(id)) };
    },
    /** Revokes every app password of the account; returns those revoked. */
    async revokeAll(accountId: string, by: By): Promise<AppPasswordRow[]> {
      const rows = await repo.deleteAll(accountId);
      await recordRevoked(accountId, rows, by);
      return rows;
    },
  };
}
export type AppPasswords = ReturnType<typeof createAppPasswords>;

/** The compromised-password flow's (and a password change's) revoker: every app password goes. */
export function revokeAppPasswords(appPasswords: Pick<AppPasswords, 'revokeAll'>) {
  return async (accountId: string, info: RequestInfo): Promise<number> =>
    (await appPasswords.revokeAll(accountId, info)).length;
}
