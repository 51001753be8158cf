// Where the browser may be sent back after a detour: open redirects must not get through.
import { describe, it, expect } from 'vitest';
import { safeReturnPath } from '../../src/http/return-path.ts';

describe('safeReturnPath', () => {
  it('the login flow, the account pages and an invitation link', () => {
    for (const p of [
      '/invitation/aB3-_x9',
      '/invitation/aB3-_x9/sign-in',
      '/account',
      '/account/',
      '/account/security',
      '/account/security/totp/new',
      '/interaction/aB3-_x9',
      '/interaction/aB3-_x9/login',
    ])
      expect(safeReturnPath(p), p).toBe(p);
  });
  it('open redirect: absolute, scheme-relative and backslash URLs are refused', () => {
    for (const p of [
      'https://evil.example/account',
      '//evil.example/account',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      '///evil.example',
      '/%2F%2Fevil.example',
    ])
      expect(safeReturnPath(p), p).toBeUndefined();
  });
  it('other paths on this site, look-alikes and path tricks are refused', () => {
    for (const p of [
      '/',
      '/admin',
      '/accounts',
      '/account.evil',
      '/accountx',
      '/interaction',
      '/interaction/',
      '/interaction/x.y',
      '/invitation',
      '/invitation/',
      '/invitation/x.y',
      '/invitation//evil.example',
      '/invitations/x',
      '/account/../admin',
      '/account/%2e%2e/admin',
      'account',
      '/account?next=https://evil.example',
      '/account#x',
      '/account@evil.example',
    ])
      expect(safeReturnPath(p), p).toBeUndefined();
  });
  it('control characters (header splitting) are refused', () => {
    for (const p of ['/account\n', '/account\r\nLocation: https://evil.example', '/account\t', '/account '])
      expect(safeReturnPath(p), JSON.stringify(p)).toBeUndefined();
  });
  it('anything but a string is refused', () => {
    for (const v of [undefined, null, 1, ['/account'], { toString: () => '/account' }])
      expect(safeReturnPath(v)).toBeUndefined();
  });
});
