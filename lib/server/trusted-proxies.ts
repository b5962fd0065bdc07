import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

/**
 * Which peers may tell the gateway what the client asked for (`X-Forwarded-Proto`,
 * `X-Forwarded-Host`). Any other caller can write those headers too, so they count only when the
 * TCP peer itself is one of the configured proxies (`TRUSTED_PROXIES`).
 */

/** One entry: an IPv4 or IPv6 address, or a CIDR range of either. */
export const addressOrRangeSchema = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

/** An IPv4 peer as Node reports it on a dual-stack socket (`::ffff:10.0.0.1`), as plain IPv4. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** A predicate over peer addresses: true for an address inside one of `entries`. */
export function trustedProxies(entries: readonly string[]): (address: string | undefined) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = addressOrRangeSchema.safeParse(entry);
    if (!parsed.success) throw new TypeError(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    const [address = '', prefix] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(plainAddress(address), type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    if (address === undefined) return false;
    const plain = plainAddress(address);
    if (isIPv4(plain)) return list.check(plain, 'ipv4');
    return isIPv6(plain) && list.check(plain, 'ipv6');
  };
}
