// A console action is written twice: in the log of the member it concerns and in the admin's
// (views/activity.eta shows details.organization and details.member or details.by).
import type { RequestInfo } from '../http/request-info.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Organization } from '../db/repositories/organizations.ts';

/** Who acted, and from where (the page's or the API call's request). */
export interface ConsoleActor {
  account: { id: string; email: string };
  info: RequestInfo;
}

export async function recordBoth(
  activity: ActivityRepo,
  by: ConsoleActor,
  type: string,
  about: { organization: Pick<Organization, 'id' | 'name'>; member: { id: string; email: string } },
): Promise<void> {
  const { organization, member } = about;
  const { account, info } = by;
  const base = { ip: info.ip, device: info.device, type };
  const org = { organization: organization.name, organizationId: organization.id };
  await activity.record({ ...base, accountId: member.id, details: { ...org, by: account.email } });
  if (member.id !== account.id)
    await activity.record({ ...base, accountId: account.id, details: { ...org, member: member.email } });
}
