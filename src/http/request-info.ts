import type { Ctx } from './context.ts';
import { describeBrowser } from '../lib/user-agent.ts';
import { sentDeviceCookie } from './device-cookie.ts';

/** Who is asking, as the activity log and alerts show it. */
export interface RequestInfo {
  ip: string;
  device: string;
  clientId?: string;
  application?: string;
  /** The browser's device cookie (http/device-cookie.ts), for the lockout's trusted-device budget.
   *  A secret: never stored or logged as is. */
  deviceCookie?: string;
}

export function requestInfo(ctx: Ctx, app?: { clientId?: string; application?: string }): RequestInfo {
  return { ip: ctx.ip, device: describeBrowser(ctx.get('User-Agent')), deviceCookie: sentDeviceCookie(ctx), ...app };
}
