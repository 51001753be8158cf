// What an alert or the sessions page says about a browser and an address.
import { describe, it, expect } from 'vitest';
import { describeBrowser, describePlace } from '../../src/lib/user-agent.ts';

const UA = {
  chromeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  chromeAndroid:
    'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0',
  firefoxUbuntu: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
};

describe('describeBrowser', () => {
  it('browser and major version, then the system: names only, the same in every language', () => {
    expect(describeBrowser(UA.chromeLinux)).toBe('Chrome 140 · Linux');
    expect(describeBrowser(UA.chromeAndroid)).toBe('Chrome 140 · Android 15');
    expect(describeBrowser(UA.safariIphone)).toBe('Safari 17 · iOS 17');
    expect(describeBrowser(UA.firefoxUbuntu)).toBe('Firefox 128 · Linux');
  });
  it('macOS and Windows by their release names', () => {
    expect(describeBrowser(UA.safariMac)).toBe('Safari 17 · macOS Sonoma');
    expect(describeBrowser(UA.edgeWindows)).toBe('Microsoft Edge 140 · Windows 10'); // Edge, not the Chrome it claims to be too
  });
  it('nothing recognised is the empty string (the page then says "unknown browser" in its language)', () => {
    for (const ua of [undefined, '', 'curl/8.5.0', 'zzzz']) expect(describeBrowser(ua)).toBe('');
  });
  it('a huge User-Agent is cut before parsing, and still recognised', () => {
    expect(describeBrowser(UA.chromeLinux + ' x'.repeat(50_000))).toBe('Chrome 140 · Linux');
  });
});

describe('describePlace', () => {
  it('this computer: IPv4 and IPv6 loopback, mapped loopback', () => {
    for (const ip of ['127.0.0.1', '127.10.20.30', '::1', '::ffff:127.0.0.1'])
      expect(describePlace(ip), ip).toBe('this_computer');
  });
  it('a local network: RFC 1918, link-local (v4 and v6), unique local IPv6 — edges of each range included', () => {
    for (const ip of [
      '10.0.0.1',
      '10.255.255.255',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.20',
      '169.254.10.1',
      '::ffff:10.1.2.3',
      'fe80::1',
      'FE80::abcd',
      'fc00::1',
      'fd12:3456::1',
    ])
      expect(describePlace(ip), ip).toBe('local_network');
  });
  it('just outside those ranges, and public addresses: unknown (no GeoIP)', () => {
    for (const ip of [
      '172.15.255.255',
      '172.32.0.1',
      '192.169.0.1',
      '11.0.0.1',
      '128.0.0.1',
      '100.64.0.1',
      '8.8.8.8',
      '2001:db8::1',
      '::ffff:8.8.8.8',
      'nonsense',
    ])
      expect(describePlace(ip), ip).toBe('unknown');
  });
});
