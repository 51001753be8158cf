// Redirect URL rules for registered applications (RFC 6749 §3.1.2, RFC 8252 §7).
import { describe, it, expect } from 'vitest';
import { redirectUriProblem } from '../../src/account/applications-service.ts';

const prod = { production: true, allowCustomScheme: false };
const dev = { production: false, allowCustomScheme: false };
const spa = { production: true, allowCustomScheme: true };

describe('redirectUriProblem', () => {
  it('https anywhere is fine, scheme and host in any case', () => {
    expect(redirectUriProblem('https://rp.example/openid-connect-authorize', prod)).toBeUndefined();
    expect(redirectUriProblem('HTTPS://RP.EXAMPLE/cb?x=1', prod)).toBeUndefined();
  });
  it('must be absolute', () => {
    for (const v of ['/callback', 'rp.example/cb', '', '//rp.example/cb'])
      expect(redirectUriProblem(v, prod)).toBe('not_absolute');
  });
  it('no fragment, not even an empty one (§3.1.2)', () => {
    expect(redirectUriProblem('https://rp.example/cb#x', prod)).toBe('fragment');
    expect(redirectUriProblem('https://rp.example/cb#', prod)).toBe('fragment');
  });
  it('production: plain http only on loopback', () => {
    for (const v of ['http://localhost/cb', 'http://LOCALHOST:3000/cb', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb'])
      expect(redirectUriProblem(v, prod)).toBeUndefined();
    for (const v of [
      'http://rp.example/cb',
      'http://localhost.evil.example/cb',
      'http://127.0.0.1.nip.io/cb',
      'http://0.0.0.0/cb',
    ])
      expect(redirectUriProblem(v, prod)).toBe('https_required');
  });
  it('outside production plain http is allowed on any host (test sites)', () => {
    expect(redirectUriProblem('http://rp.example/cb', dev)).toBeUndefined();
  });
  it('custom schemes only when allowed, and only reverse-domain ones (RFC 8252 §7.1)', () => {
    expect(redirectUriProblem('com.example.app:/oauth2redirect', spa)).toBeUndefined();
    expect(redirectUriProblem('com.example.app:/oauth2redirect', prod)).toBe('scheme');
    expect(redirectUriProblem('myapp:/cb', spa)).toBe('scheme');
  });
  it('script and data URLs are never redirect targets, even where custom schemes are allowed', () => {
    for (const v of [
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'file:///etc/passwd',
      'ftp://rp.example/cb',
    ]) {
      expect(redirectUriProblem(v, spa)).toBe('scheme');
      expect(redirectUriProblem(v, dev)).toBe('scheme');
    }
  });
});
