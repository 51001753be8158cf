// RP-initiated logout: where the browser may be sent afterwards.
import { describe, it, expect } from 'vitest';
import { postLogoutUriAllowed } from '../../src/oidc/clients.ts';

const registered = ['https://blog.example/wp-login.php?loggedout=true', 'https://app.example/'];

describe('postLogoutUriAllowed', () => {
  it('an exact registered URL', () => {
    expect(postLogoutUriAllowed(registered, 'https://blog.example/wp-login.php?loggedout=true')).toBe(true);
  });
  it('the same query keys with other values (WordPress varies wp_lang)', () => {
    const wp = ['https://blog.example/wp-login.php?loggedout=true&wp_lang=en_US'];
    expect(postLogoutUriAllowed(wp, 'https://blog.example/wp-login.php?loggedout=true&wp_lang=fr_FR')).toBe(true);
    expect(postLogoutUriAllowed(wp, 'https://blog.example/wp-login.php?wp_lang=de_DE&loggedout=true')).toBe(true);
    expect(postLogoutUriAllowed(registered, 'https://app.example')).toBe(true); // the same path, "/"
  });
  it('a query key the registration lacks, or one missing, is refused (redirect_to would be an open redirect)', () => {
    for (const v of [
      'https://blog.example/wp-login.php?loggedout=true&redirect_to=https://evil.example/',
      'https://blog.example/wp-login.php?redirect_to=https://evil.example/',
      'https://blog.example/wp-login.php?loggedout=true&loggedout=false',
      'https://blog.example/wp-login.php',
      'https://app.example/?next=https://evil.example/',
    ])
      expect(postLogoutUriAllowed(registered, v), v).toBe(false);
  });
  it('open redirect: another host, scheme, port or path is refused', () => {
    for (const v of [
      'https://evil.example/wp-login.php?loggedout=true',
      'http://blog.example/wp-login.php?loggedout=true',
      'https://blog.example:8443/wp-login.php',
      'https://blog.example/wp-admin/',
      'https://blog.example/wp-login.php/../wp-admin/',
      'https://blog.example/WP-LOGIN.PHP',
      'https://blog.example.evil.example/wp-login.php',
      'https://app.example/logout',
    ])
      expect(postLogoutUriAllowed(registered, v), v).toBe(false);
  });
  it('a fragment is refused unless registered exactly; so is anything that is not a URL', () => {
    expect(postLogoutUriAllowed(registered, 'https://app.example/#token')).toBe(false);
    expect(postLogoutUriAllowed(['https://app.example/#done'], 'https://app.example/#done')).toBe(true);
    expect(postLogoutUriAllowed(registered, '/wp-login.php')).toBe(false);
    expect(postLogoutUriAllowed(registered, 'javascript:alert(1)')).toBe(false);
  });
  it('nothing registered (or only garbage): nothing allowed', () => {
    expect(postLogoutUriAllowed([], 'https://app.example/')).toBe(false);
    expect(postLogoutUriAllowed(['not a url'], 'https://app.example/')).toBe(false);
  });
});
