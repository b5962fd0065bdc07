import { describe, expect, it } from 'vitest';
import { trustedProxies } from '../../lib/server/trusted-proxies.js';

describe('trusted proxies', () => {
  it('should match addresses and ranges of either family, IPv4 peers on dual-stack sockets included', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    for (const address of ['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.7', 'fd12:3456::1'])
      expect(trusted(address), address).toBe(true);
    for (const address of ['192.0.2.8', '11.0.0.1', '::1', 'fe80::1', 'not-an-address', undefined])
      expect(trusted(address), String(address)).toBe(false);
  });

  it('should trust nobody when none are configured, and refuse a malformed entry', () => {
    expect(trustedProxies([])('127.0.0.1')).toBe(false);
    expect(() => trustedProxies(['10.0.0.0/33'])).toThrow(/not an IP address or CIDR range/);
  });
});
