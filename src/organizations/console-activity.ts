// A console action is written twice: in the log of the member it concerns and in the admin's
// (views/activity.eta shows details.organization and details.member or details.by).
import type { AccountCtx } from '../http/context.ts';
import { requestInfo } from '../http/request-info.ts';
import type { ActivityRepo } from '../db/repositories/activity.ts';
import type { Organization } from '../db/repositories/organizations.ts';

export async function recordBoth(
  activity: ActivityRepo,
  ctx: AccountCtx,
  type: string,
  about: { organization: Pick<Organization, 'id' | 'name'>; member: { id: string; email: string } },
): Promise<void> {
  const { organization, member } = about;
  const { account } = ctx.state;
  const info = requestInfo(ctx);
  const base = { ip: info.ip, device: info.device, type };
  const org = { organization: organization.name, organizationId: organization.id };
  await activity.record({ ...base, accountId: member.id, details: { ...org, by: account.email } });
  if (member.id !== account.id)
    await activity.record({ ...base, accountId: account.id, details: { ...org, member: member.email } });
}
