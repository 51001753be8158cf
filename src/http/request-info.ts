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
  // Through the REST API, the "device" is the token or application that made the call: its owner
  // can tell which of them did what.
  const device = ctx.state.apiCaller ?? describeBrowser(ctx.get('User-Agent'));
  return { ip: ctx.ip, device, deviceCookie: sentDeviceCookie(ctx), ...app };
}
