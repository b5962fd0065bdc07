import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DeliveryInputError } from '../errors.js';
import { bareAddress, blockedRangeOf, type BlockedRange } from './address-ranges.js';

/** Resolves a host name to every address it has (the system resolver unless a test gives another). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** A connection refused by the guard: the attempt's error class is `blocked`. */
export class AddressBlockedError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_BLOCKED';
  constructor(
    readonly hostname: string,
    readonly range: BlockedRange,
  ) {
    super(`${hostname} resolves to a ${range.kind} address, which webhooks may not reach`);
    this.name = 'AddressBlockedError';
  }
}

export interface SsrfGuardOptions {
  /** Development mode: `http://` URLs too. */
  allowHttp: boolean;
  /** Hosts (exact, lower case), addresses and CIDR ranges let through although otherwise refused. */
  allow: readonly string[];
  /** @default systemResolver */
  resolve?: Resolver;
}

/**
 * The SSRF guard of webhook deliveries, applied twice: when an endpoint is saved (its URL, and
 * every address its host resolves to then) and on every connection (the addresses it resolves to
 * now, through the delivery agent's `lookup`), so a host that answered a public address at save
 * and a private one later (DNS rebinding) is refused before a byte is sent. A host with one
 * refused address among several is refused whole: the connection could pick any of them.
 */
export class SsrfGuard {
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly allowedRanges = new BlockList();
  private readonly resolve: Resolver;
  /** Attempt URLs `checkAttemptUrl` let through (a host name, or a literal that may be reached). */
  private readonly reachableUrls = new Set<string>();

  constructor(private readonly options: SsrfGuardOptions) {
    this.resolve = options.resolve ?? systemResolver;
    const hosts = new Set<string>();
    for (const entry of options.allow) {
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address);
      if (family === 0) hosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.allowedRanges.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
      else this.allowedRanges.addSubnet(address, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
    }
    this.allowedHosts = hosts;
  }

  /**
   * The URL as it will be stored (WHATWG-normalised), when its form is acceptable and its host
   * resolves only to addresses webhooks may reach. Throws DeliveryInputError saying which rule
   * refused it, naming the kind of range but never a resolved address (no mapping of internal DNS).
   */
  async checkUrl(raw: string): Promise<string> {
    const url = this.parseUrl(raw);
    await this.addressesOf(url.hostname).catch((error: unknown) => {
      if (error instanceof AddressBlockedError)
        throw new DeliveryInputError(
          'url-blocked',
          `The endpoint URL's host is or resolves to a ${error.range.kind} address, which webhooks may not be sent to.`,
        );
      throw new DeliveryInputError(
        'url-unresolvable',
        `The endpoint URL's host ${url.hostname} does not resolve.`,
      );
    });
    return url.toString();
  }

  /** Checks the URL's form only: scheme, no credentials, a host. */
  parseUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DeliveryInputError('url-invalid', 'The endpoint URL is not a valid absolute URL.');
    }
    const schemes = this.options.allowHttp ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol))
      throw new DeliveryInputError(
        'url-invalid',
        this.options.allowHttp
          ? 'The endpoint URL must use https:// or http://.'
          : 'The endpoint URL must use https:// (http:// is accepted in development mode only).',
      );
    if (url.username !== '' || url.password !== '')
      throw new DeliveryInputError(
        'url-invalid',
        'The endpoint URL may not carry credentials (user:password@); verify webhooks by their signature instead.',
      );
    if (url.hostname === '') throw new DeliveryInputError('url-invalid', 'The endpoint URL has no host.');
    return url;
  }

  /**
   * Every address `hostname` resolves to, when all may be reached; throws AddressBlockedError
   * when one may not, or the resolver's error. An IP address is checked as it is.
   */
  async addressesOf(hostname: string): Promise<LookupAddress[]> {
    const host = bareAddress(hostname).toLowerCase();
    const family = isIP(host);
    const addresses = family === 0 ? await this.resolve(host) : [{ address: host, family }];
    this.refuseBlocked(hostname, host, addresses);
    return addresses;
  }

  /**
   * Checks an attempt's URL when its host is an address literal (net.connect looks up host names
   * only, through `lookup`, so a literal is never checked there); throws AddressBlockedError when
   * it may not be reached. Every attempt calls it, so the answer is kept per URL: it depends only on
   * the URL and this guard's options, which never change (a narrowed allow-list is a new guard).
   * Refusals are not kept: they throw each time.
   */
  checkAttemptUrl(url: string): void {
    if (this.reachableUrls.has(url)) return;
    const hostname = new URL(url).hostname;
    const host = bareAddress(hostname).toLowerCase();
    const family = isIP(host);
    if (family !== 0) this.refuseBlocked(hostname, host, [{ address: host }]);
    // Bounded: endpoints' URLs, most often a few; cleared rather than grown without end.
    if (this.reachableUrls.size >= 10_000) this.reachableUrls.clear();
    this.reachableUrls.add(url);
  }

  /** Throws AddressBlockedError for the first address that may not be reached, unless `host` is allowed by name. */
  private refuseBlocked(hostname: string, host: string, addresses: readonly { address: string }[]): void {
    if (this.allowedHosts.has(host.replace(/\.$/, ''))) return;
    for (const { address } of addresses) {
      const range = this.blockedRange(address);
      if (range) throw new AddressBlockedError(hostname, range);
    }
  }

  /** The refused range of one address, unless the allow-list lets it through. */
  blockedRange(address: string): BlockedRange | undefined {
    const range = blockedRangeOf(address);
    if (!range) return undefined;
    const bare = bareAddress(address);
    const type = isIP(bare) === 6 ? 'ipv6' : 'ipv4';
    return this.allowedRanges.check(bare, type) ? undefined : range;
  }

  /**
   * A `lookup` for `net.connect`/`tls.connect` (the delivery agent's `connect` option): resolves
   * through the guard, so the address connected to is one it checked. Node calls it with
   * `{ all: true }` when it races IPv4 and IPv6 (autoSelectFamily), otherwise for one address.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.addressesOf(hostname).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const addresses = wanted === undefined ? all : all.filter((a) => a.family === wanted);
        const [first] = addresses;
        if (!first) {
          const error: NodeJS.ErrnoException = new Error(
            `${hostname} has no address of the family asked for`,
          );
          error.code = 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
