/**
 * How the sandboxes judge an email address a client writes: its syntax, and whether it can reach
 * anyone. Platforms refuse addresses that cannot receive mail; the sandboxes model that with the
 * top-level domains reserved for never resolving (RFC 2606/6761). `example.com` and friends stay
 * deliverable, since the generated world's customers live there.
 */

/** local@domain.tld: no spaces, one @, a dot in the domain, at most 254 characters (RFC 5321). */
const ADDRESS =
  /^[^\s@"(),:;<>[\]\\]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

const UNREACHABLE_TLDS = new Set(['test', 'invalid', 'example', 'localhost']);

export type EmailVerdict = 'valid' | 'malformed' | 'undeliverable';

export function judgeEmail(address: string): EmailVerdict {
  if (address.length > 254 || !ADDRESS.test(address)) return 'malformed';
  const tld = address.slice(address.lastIndexOf('.') + 1).toLowerCase();
  return UNREACHABLE_TLDS.has(tld) ? 'undeliverable' : 'valid';
}
