// An application's registration changes are security changes: each one goes to the actor's
// activity log, with the organization it belongs to (the Applications pages and the API alike).
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Application } from '../db/repositories/applications.ts';
import type { RequestInfo } from '../http/request-info.ts';

export type AppChange = 'app_created' | 'app_updated' | 'app_secret_rotated' | 'app_deleted';

export function recordAppChange(
  activity: ActivityRepo,
  by: { accountId: string; organization?: { id: string; name: string }; info: RequestInfo },
  type: AppChange,
  app: Pick<Application, 'clientId' | 'name'>,
): Promise<void> {
  const { organization: org, info } = by;
  return activity.record({
    accountId: by.accountId,
    type,
    ip: info.ip,
    device: info.device,
    clientId: app.clientId,
    application: app.name,
    details: org ? { organization: org.name, organizationId: org.id } : {},
  });
}
