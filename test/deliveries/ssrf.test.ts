import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { DeliveryInputError } from '../../deliveries/errors.js';
import { blockedRangeOf } from '../../deliveries/ssrf/address-ranges.js';
import { SsrfGuard, type Resolver } from '../../deliveries/ssrf/guard.js';

/** A resolver answering from a table, as DNS would: a name resolves to what the test says. */
function resolverOf(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function refusal(guard: SsrfGuard, url: string): Promise<DeliveryInputError> {
  const error = await guard.checkUrl(url).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeliveryInputError)) throw new Error(`${url} was accepted`);
  return error;
}

describe('SSRF guard: address ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.10.10', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.254', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.0.192', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::192.168.0.1', 'private'],
  ])('should refuse %s as %s', (address, kind) => {
    expect(blockedRangeOf(address)?.kind).toBe(kind);
  });

  it.each([
    '93.184.215.14',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '8.8.8.8',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ])('should let the public address %s through', (address) => {
    expect(blockedRangeOf(address)).toBeUndefined();
  });
});

describe('SSRF guard: endpoint URLs at save', () => {
  const guard = new SsrfGuard({
    allowHttp: false,
    allow: [],
    resolve: resolverOf({
      'hooks.example.com': ['93.184.215.14'],
      'intranet.example.com': ['10.0.0.8'],
      'mixed.example.com': ['93.184.215.14', '192.168.0.3'],
      'metadata.example.com': ['169.254.169.254'],
      'v6-loopback.example.com': ['::1'],
    }),
  });

  it('should accept an https URL whose host resolves to public addresses only, normalised', async () => {
    await expect(guard.checkUrl('https://HOOKS.example.com/in?x=1')).resolves.toBe(
      'https://hooks.example.com/in?x=1',
    );
  });

  it.each([
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://10.0.0.1/hook', 'private'],
    ['https://172.20.1.1/hook', 'private'],
    ['https://192.168.0.1/hook', 'private'],
    ['https://169.254.1.1/hook', 'link-local'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata'],
    ['https://100.100.100.100/hook', 'shared (CGNAT)'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://239.1.1.1/hook', 'multicast'],
    ['https://[::1]/hook', 'loopback'],
    ['https://[fd00::5]/hook', 'private'],
    ['https://[fe80::2]/hook', 'link-local'],
    ['https://[fd00:ec2::254]/hook', 'metadata'],
    ['https://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'metadata'],
    // Other spellings of loopback that URL parsing turns into 127.0.0.1.
    ['https://2130706433/hook', 'loopback'],
    ['https://0x7f.1/hook', 'loopback'],
    ['https://intranet.example.com/hook', 'private'],
    ['https://metadata.example.com/hook', 'metadata'],
    ['https://v6-loopback.example.com/hook', 'loopback'],
    // One private address among public ones: the connection could use it.
    ['https://mixed.example.com/hook', 'private'],
  ])('should refuse %s (%s)', async (url, kind) => {
    const error = await refusal(guard, url);
    expect(error.reason).toBe('url-blocked');
    expect(error.message).toContain(`a ${kind} address`);
  });

  it('should never show the resolved address in a refusal', async () => {
    const error = await refusal(guard, 'https://intranet.example.com/hook');
    expect(error.message).not.toContain('10.0.0.8');
  });

  it('should refuse http:// unless in development mode, and take it then', async () => {
    const error = await refusal(guard, 'http://hooks.example.com/hook');
    expect(error.reason).toBe('url-invalid');
    expect(error.message).toContain('https://');
    const development = new SsrfGuard({
      allowHttp: true,
      allow: [],
      resolve: resolverOf({ 'hooks.example.com': ['93.184.215.14'] }),
    });
    await expect(development.checkUrl('http://hooks.example.com/hook')).resolves.toBe(
      'http://hooks.example.com/hook',
    );
  });

  it.each([
    ['ftp://hooks.example.com/hook', 'url-invalid'],
    ['not a url', 'url-invalid'],
    ['https://user:pass@hooks.example.com/hook', 'url-invalid'],
    ['https://nowhere.example.com/hook', 'url-unresolvable'],
  ])('should refuse %s with %s', async (url, reason) => {
    expect((await refusal(guard, url)).reason).toBe(reason);
  });

  it('should let allow-listed hosts and ranges through, and nothing else', async () => {
    const allowing = new SsrfGuard({
      allowHttp: true,
      allow: ['127.0.0.1/32', 'receiver.internal'],
      resolve: resolverOf({ 'receiver.internal': ['10.9.9.9'], 'other.internal': ['10.9.9.10'] }),
    });
    await expect(allowing.checkUrl('http://127.0.0.1:8080/hook')).resolves.toBe('http://127.0.0.1:8080/hook');
    await expect(allowing.checkUrl('http://receiver.internal/hook')).resolves.toBe(
      'http://receiver.internal/hook',
    );
    expect((await refusal(allowing, 'http://127.0.0.2/hook')).reason).toBe('url-blocked');
    expect((await refusal(allowing, 'http://other.internal/hook')).reason).toBe('url-blocked');
  });
});
