// Sign-in alerts by email. "New device or location" is always on: a device is known by a random,
// long-lived, HttpOnly cookie (only its HMAC is stored), a location by the network the address
// belongs to (IPv4 /24, IPv6 /48) — Sesame ships no GeoIP database, so the email names the address
// and what it tells (this computer, a local network). An account's very first sign-in sets the
// baseline and sends nothing. Every successful sign-in and every failed password can be turned on
// too (Security page). Each alert links to "this wasn't me" (the compromised-password flow).
import net from 'node:net';
import type { Config } from '../config.ts';
import type { Account, AccountsRepo } from '../db/repositories/accounts.ts';
import type { KnownDevicesRepo } from '../db/repositories/known-devices.ts';
import type { Mailer } from '../notify/mailer.ts';
import { emails, greetingName } from '../notify/emails.ts';
import { localeOf } from '../http/i18n.ts';
import { MESSAGE_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { Ctx } from '../http/context.ts';
import { describePlace } from '../lib/user-agent.ts';
import { ensureDeviceCookie, deviceHashOf } from '../http/device-cookie.ts';

/** The network an address belongs to, the unit of "location". */
export function networkOf(ip: string): string {
  const addr = ip.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (net.isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  if (net.isIPv6(addr)) {
    const full = addr.includes('::') ? expand(addr) : addr.split(':');
    return `${full
      .slice(0, 3)
      .map((h) => h.padStart(4, '0'))
      .join(':')}::/48`;
  }
  return addr;
}
function expand(addr: string): string[] {
  const [head, tail] = addr.split('::') as [string, string];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
}

export function createAlerts(deps: {
  config: Config;
  accounts: AccountsRepo;
  known: KnownDevicesRepo;
  mailer: Mailer;
  limiter: RateLimiter;
}) {
  const { config } = deps;

  async function send(a: Account, kind: 'new_device' | 'sign_in' | 'failed_password', info: RequestInfo) {
    if (!(await deps.limiter.hit('email', a.email, config.rateLimits.emailPerRecipient, MESSAGE_WINDOW_SECONDS)))
      return;
    await deps.mailer.send(
      emails.signInAlert(localeOf(a), a.zoneinfo, a.email, {
        kind,
        when: new Date(),
        app: info.application ?? 'Sesame',
        device: info.device,
        ip: info.ip,
        place: describePlace(info.ip),
        link: `${config.issuer}/account/compromised`,
        greet: greetingName(a, a.email),
      }),
    );
  }

  return {
    /** After a completed sign-in: remember this device and network; alert when either is new. */
    async afterSignIn(ctx: Ctx, accountId: string, info: RequestInfo): Promise<void> {
      const a = await deps.accounts.findById(accountId);
      if (!a) return;
      const deviceHash = deviceHashOf(config.hashKey, ensureDeviceCookie(ctx));
      const network = networkOf(info.ip);
      const seen = await deps.known.seen(a.id, deviceHash, network);
      await deps.known.remember(a.id, deviceHash, network);
      if (seen.any && (!seen.device || !seen.network)) await send(a, 'new_device', info);
      else if (a.alertEverySignIn) await send(a, 'sign_in', info);
    },
    async afterWrongPassword(a: Account, info: RequestInfo): Promise<void> {
      if (a.alertFailedPassword) await send(a, 'failed_password', info);
    },
  };
}
export type Alerts = ReturnType<typeof createAlerts>;
