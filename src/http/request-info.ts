import type { Ctx } from './context.ts';
import { describeBrowser } from '../lib/user-agent.ts';

/** Who is asking, as the activity log and alerts show it. */
export interface RequestInfo {
  ip: string;
  device: string;
  clientId?: string;
  application?: string;
}

export function requestInfo(ctx: Ctx, app?: { clientId?: string; application?: string }): RequestInfo {
  return { ip: ctx.ip, device: describeBrowser(ctx.get('User-Agent')), ...app };
}
