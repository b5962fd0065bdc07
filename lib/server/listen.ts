import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyHttpLimits, DEFAULT_HTTP_LIMITS, type HttpServerLimits } from './limits.js';

export interface Listening {
  /** `http://host:port` as bound (port 0 resolved to the real port). */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts listening and resolves once bound, so callers (tests, the all-in-one `start`) can wire the
 * next part to the real port. Every server of the product listens through here, so each gets the
 * same request timeouts and connection cap. Close ends idle keep-alive sockets so shutdown does not
 * hang.
 * @param limits @default the catalog's defaults (HTTP_REQUEST_TIMEOUT_MS and the others)
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  limits: HttpServerLimits = DEFAULT_HTTP_LIMITS,
): Promise<Listening> {
  applyHttpLimits(server, limits);
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        origin: `http://${shownHost}:${address.port}`,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2_000).unref();
          }),
      });
    });
  });
}
