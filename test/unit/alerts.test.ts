// The "location" of a sign-in for new-network alerts: the network an address belongs to.
import { describe, it, expect } from 'vitest';
import { networkOf } from '../../src/login/alerts.ts';

describe('networkOf', () => {
  it('IPv4: the /24', () => {
    expect(networkOf('203.0.113.10')).toBe('203.0.113.0/24');
    expect(networkOf('203.0.113.255')).toBe(networkOf('203.0.113.1'));
    expect(networkOf('203.0.114.10')).not.toBe(networkOf('203.0.113.10'));
  });
  it('IPv4-mapped IPv6 (what a dual-stack socket reports) is the IPv4 /24', () => {
    expect(networkOf('::ffff:198.51.100.77')).toBe('198.51.100.0/24');
    expect(networkOf('::ffff:198.51.100.77')).toBe(networkOf('198.51.100.1'));
  });
  it('IPv6: the /48, the same whether the address is written in full, with "::" or with leading zeros dropped', () => {
    expect(networkOf('2001:db8:1:ffff::')).toBe('2001:0db8:0001::/48');
    expect(networkOf('2001:db8:1::1')).toBe('2001:0db8:0001::/48');
    expect(networkOf('2001:0db8:0001:0000:0000:0000:0000:0001')).toBe('2001:0db8:0001::/48');
    expect(networkOf('2001:db8:2::1')).not.toBe(networkOf('2001:db8:1::1'));
  });
  it('IPv6 "::" forms: the zero groups are in the /48 too', () => {
    expect(networkOf('::')).toBe('0000:0000:0000::/48');
    expect(networkOf('::1')).toBe('0000:0000:0000::/48');
    expect(networkOf('2001:db8::')).toBe('2001:0db8:0000::/48');
    expect(networkOf('2001::1')).toBe('2001:0000:0000::/48');
    expect(networkOf('2001:db8::1:2:3:4')).toBe('2001:0db8:0000::/48');
    expect(networkOf('1:2:3:4:5:6:7::')).toBe('0001:0002:0003::/48');
  });
  it('something that is not an address is kept as it is', () => {
    expect(networkOf('unknown')).toBe('unknown');
  });
  it('upper-case hex is the same /48 (RFC 4291 §2.2)', () => {
    expect(networkOf('2001:DB8:1::1')).toBe(networkOf('2001:db8:1::1'));
  });
  it('"::FFFF:" mapped IPv4 is unmapped whatever its case', () => {
    expect(networkOf('::FFFF:198.51.100.77')).toBe('198.51.100.0/24');
  });
});
