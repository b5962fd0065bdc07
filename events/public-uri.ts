import type { IncomingMessage } from 'node:http';
import { plainAddress, trustedProxies } from '../lib/server/trusted-proxies.js';
import { headerValue } from '../lib/webhooks/headers.js';

/**
 * The URI a platform called, for signatures that cover it (HubSpot v3). Never the request's own
 * `Host` header: the caller writes it, so trusting it let a signature HubSpot made for another
 * host (a staging app with the same secret, any URL the attacker saw signed) verify here. In order:
 * 1. `WEBHOOK_PUBLIC_URL`, the origin the platforms were told to call;
 * 2. `X-Forwarded-Proto` / `X-Forwarded-Host`, only when the TCP peer is a trusted proxy;
 * 3. the address and port this connection reached the gateway on.
 */
export interface PublicUriOptions {
  /** The configured public origin (`https://hooks.example.com`). */
  publicUrl?: string | undefined;
  /** IP addresses or CIDR ranges of the proxies allowed to forward the original host. */
  trustedProxies?: readonly string[] | undefined;
}

/** A host as a proxy forwards it: a name or IPv4 address, or a bracketed IPv6 address, and a port. */
const FORWARDED_HOST = /^(?:[a-z\d](?:[a-z\d.-]{0,251}[a-z\d])?|\[[\da-f:.]+\])(?::\d{1,5})?$/i;

/**
 * One forwarded header's value. Proxies that append write `client-sent, proxy-set`: the last
 * entry is the one the proxy next to the gateway wrote, the only one the trust covers.
 */
function forwarded(req: IncomingMessage, name: string): string | undefined {
  const value = headerValue(req.headers, name);
  if (value === undefined) return undefined;
  const last = value.split(',').at(-1)?.trim();
  return last === '' ? undefined : last;
}

/** `http://<address>:<port>` of the local end of the connection, as the gateway listens. */
function listenOrigin(req: IncomingMessage): string {
  const address = plainAddress(req.socket.localAddress ?? '127.0.0.1');
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort ?? 80}`;
}

export function publicUriResolver(options: PublicUriOptions): (req: IncomingMessage, url: URL) => string {
  const configured = options.publicUrl?.replace(/\/+$/, '');
  const isTrusted = trustedProxies(options.trustedProxies ?? []);
  const origin = (req: IncomingMessage): string => {
    if (configured !== undefined) return configured;
    if (isTrusted(req.socket.remoteAddress)) {
      const host = forwarded(req, 'x-forwarded-host');
      const proto = forwarded(req, 'x-forwarded-proto')?.toLowerCase() ?? 'http';
      if (host !== undefined && FORWARDED_HOST.test(host) && (proto === 'http' || proto === 'https'))
        return `${proto}://${host}`;
    }
    return listenOrigin(req);
  };
  // The path and query exactly as sent, not re-encoded by URL parsing.
  return (req, url) => `${origin(req)}${req.url ?? url.pathname}`;
}
