// Signed-in devices: list them, end one or all others. Ending a session ends what it granted, as
// far as the protocol allows: the grants of its applications are revoked with every token issued
// under them, and relying parties that registered a back-channel logout URI are told (OpenID
// Connect Back-Channel Logout 1.0).
import type Provider from 'oidc-provider';
import type { SessionInfoRepo, LiveSession } from '../db/repositories/session-info.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Logger } from '../lib/logger.ts';

type RevocableModel = { revokeByGrantId(grantId: string): Promise<void> };
type AdapterModel = { adapter: { destroy(id: string): Promise<void> } };

/** A grant goes, with every token and code issued under it. */
export async function revokeGrant(provider: Provider, grantId: string): Promise<void> {
  const models = [
    provider.AccessToken,
    provider.RefreshToken,
    provider.AuthorizationCode,
  ] as unknown as RevocableModel[];
  await Promise.all(models.map((m) => m.revokeByGrantId(grantId)));
  await (provider.Grant as unknown as AdapterModel).adapter.destroy(grantId);
}

export function createSessions(deps: {
  provider: Provider;
  repo: SessionInfoRepo;
  activity: ActivityRepo;
  logger: Logger;
}) {
  const { provider, repo } = deps;

  async function endOne(accountId: string, s: LiveSession) {
    for (const [clientId, auth] of Object.entries(s.authorizations)) {
      const client = (await provider.Client.find(clientId)) as unknown as
        { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> } | undefined;
      if (client?.backchannelLogoutUri && auth.sid) {
        await client
          .backchannelLogout(accountId, auth.sid)
          .catch((err: unknown) => deps.logger.warn({ err: String(err), clientId }, 'back-channel logout failed'));
      }
      if (auth.grantId) await revokeGrant(provider, auth.grantId);
    }
    await (provider.Session as unknown as AdapterModel).adapter.destroy(s.jti);
    await repo.forget(s.uid);
  }

  const logEnded = (accountId: string, info: RequestInfo, details: Record<string, unknown>) =>
    deps.activity.record({ accountId, type: 'session_ended', ip: info.ip, device: info.device, details });

  return {
    touch: repo.touch,
    list: (accountId: string) => repo.live(accountId),
    /** Ends one session of this account; false when there is no such live session. */
    async end(accountId: string, uid: string, info: RequestInfo): Promise<boolean> {
      const s = (await repo.live(accountId)).find((x) => x.uid === uid);
      if (!s) return false;
      await endOne(accountId, s);
      await logEnded(accountId, info, { ended: s.device });
      return true;
    },
    /** Ends every session but `keepUid` (all of them when it is undefined). Returns how many. */
    async endAll(accountId: string, keepUid: string | undefined, info?: RequestInfo): Promise<number> {
      const others = (await repo.live(accountId)).filter((s) => s.uid !== keepUid);
      for (const s of others) await endOne(accountId, s);
      if (others.length && info) await logEnded(accountId, info, { count: others.length });
      return others.length;
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
