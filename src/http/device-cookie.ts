// The device cookie (OWASP "device cookies"): a random, long-lived, HttpOnly value a browser gets
// at its first completed sign-in. Only its HMAC is stored: by the sign-in alerts (known devices) and
// by the lockout (trusted devices, each with its own failure budget per account).
import type { Ctx } from './context.ts';
import { hmac, randomToken } from '../lib/crypto.ts';

const DEVICE_COOKIE = 'sesame.device';
const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000;
const issued = new WeakMap<object, string>();

/** The device cookie this browser sent, if it is one of ours in shape. */
export function sentDeviceCookie(ctx: Ctx): string | undefined {
  const value = ctx.cookies.get(DEVICE_COOKIE);
  return value && /^[\w-]{43}$/.test(value) ? value : undefined;
}

/** This browser's device cookie, given to it on this response if it had none (once per request). */
export function ensureDeviceCookie(ctx: Ctx): string {
  const sent = sentDeviceCookie(ctx) ?? issued.get(ctx);
  if (sent) return sent;
  const value = randomToken(32);
  ctx.cookies.set(DEVICE_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    maxAge: TWO_YEARS_MS,
    path: '/',
  });
  issued.set(ctx, value);
  return value;
}

/** What is stored of a device cookie. */
export function deviceHashOf(hashKey: Buffer, cookie: string): string {
  return hmac(hashKey, `device:${cookie}`);
}
