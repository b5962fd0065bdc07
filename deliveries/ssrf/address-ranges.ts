import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * The address ranges a webhook must never reach: the gateway's own host, the networks behind it,
 * and cloud metadata services, where a request the gateway makes on a subscriber's behalf could
 * read or change what the subscriber cannot (SSRF). IPv4 ranges are also refused in the IPv6
 * forms that reach them: IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`) and
 * NAT64 (`64:ff9b::127.0.0.1`).
 */
export type BlockedKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'shared (CGNAT)'
  | 'multicast'
  | 'reserved';

export interface BlockedRange {
  kind: BlockedKind;
  cidr: string;
}

/** Most specific first: 169.254.169.254 is reported as the metadata service, not just link-local. */
const IPV4: readonly BlockedRange[] = [
  { cidr: '169.254.169.254/32', kind: 'metadata' },
  { cidr: '0.0.0.0/8', kind: 'unspecified' },
  { cidr: '127.0.0.0/8', kind: 'loopback' },
  { cidr: '10.0.0.0/8', kind: 'private' },
  { cidr: '172.16.0.0/12', kind: 'private' },
  { cidr: '192.168.0.0/16', kind: 'private' },
  { cidr: '169.254.0.0/16', kind: 'link-local' },
  { cidr: '100.64.0.0/10', kind: 'shared (CGNAT)' },
  // IETF protocol assignments; Oracle Cloud's metadata service is 192.0.0.192.
  { cidr: '192.0.0.0/24', kind: 'reserved' },
  { cidr: '198.18.0.0/15', kind: 'reserved' },
  { cidr: '224.0.0.0/4', kind: 'multicast' },
  // Class E and the broadcast address 255.255.255.255.
  { cidr: '240.0.0.0/4', kind: 'reserved' },
];

const IPV6: readonly BlockedRange[] = [
  { cidr: 'fd00:ec2::254/128', kind: 'metadata' },
  { cidr: '::/128', kind: 'unspecified' },
  { cidr: '::1/128', kind: 'loopback' },
  { cidr: 'fc00::/7', kind: 'private' },
  { cidr: 'fec0::/10', kind: 'private' },
  { cidr: 'fe80::/10', kind: 'link-local' },
  { cidr: 'ff00::/8', kind: 'multicast' },
];

/** The IPv6 prefixes (/96) that carry an IPv4 address in their last 32 bits. */
const IPV4_IN_IPV6 = ['::ffff:', '::', '64:ff9b::'];

interface Checked extends BlockedRange {
  list: BlockList;
  type: 'ipv4' | 'ipv6';
}

function checked(range: BlockedRange, address: string, prefix: number, type: 'ipv4' | 'ipv6'): Checked {
  const list = new BlockList();
  list.addSubnet(address, prefix, type);
  return { ...range, list, type };
}

const RANGES: readonly Checked[] = [
  ...IPV4.map((range) => {
    const [address = '', prefix = '32'] = range.cidr.split('/');
    return checked(range, address, Number(prefix), 'ipv4');
  }),
  ...IPV6.map((range) => {
    const [address = '', prefix = '128'] = range.cidr.split('/');
    return checked(range, address, Number(prefix), 'ipv6');
  }),
  ...IPV4.flatMap((range) => {
    const [address = '', prefix = '32'] = range.cidr.split('/');
    return IPV4_IN_IPV6.map((embedding) =>
      checked(range, `${embedding}${address}`, 96 + Number(prefix), 'ipv6'),
    );
  }),
];

/** An IP address without brackets or an IPv6 zone (`[fe80::1%eth0]` → `fe80::1`). */
export function bareAddress(address: string): string {
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return unbracketed.split('%')[0] ?? unbracketed;
}

/** The refused range `address` (an IP address) falls in, or undefined when webhooks may reach it. */
export function blockedRangeOf(address: string): BlockedRange | undefined {
  const bare = bareAddress(address);
  const type = isIPv4(bare) ? 'ipv4' : isIPv6(bare) ? 'ipv6' : undefined;
  // Not an address at all: refused, never waved through.
  if (type === undefined) return { kind: 'reserved', cidr: 'not an IP address' };
  const range = RANGES.find((candidate) => candidate.type === type && candidate.list.check(bare, type));
  return range ? { kind: range.kind, cidr: range.cidr } : undefined;
}
