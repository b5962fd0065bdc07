import type { Server } from 'node:http';
import { coreCatalog as catalog } from '../config/catalog.js';
import { ConfigError, loadEnv } from '../config/env.js';
import { Counter } from '../metrics.js';

/**
 * How long a client may take to send a request, how long an idle connection stays open, and how
 * many connections a server holds. Node's own defaults let a client that sends complete headers and
 * then trickles its body hold a connection for five minutes, and accept connections until the
 * process runs out of file descriptors.
 */
export interface HttpServerLimits {
  /** The whole request, headers and body, must arrive within this; otherwise 408 and close. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (at most `requestTimeoutMs`). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections held at once (keep-alive, WebSockets, SSE); one more is closed as it arrives. */
  maxConnections: number;
}

export const HTTP_LIMITS_ENV = [
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'HTTP_MAX_CONNECTIONS',
] as const;

export const httpMetrics = {
  dropped: new Counter(
    'http_connections_dropped_total',
    'Connections closed on arrival because the server already held HTTP_MAX_CONNECTIONS.',
  ),
};

/** Reads and checks the limits; Node refuses a headers timeout longer than the request timeout. */
export function httpLimitsFromEnv(source: NodeJS.ProcessEnv = process.env): HttpServerLimits {
  const env = loadEnv(catalog, HTTP_LIMITS_ENV, source);
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
    throw new ConfigError([
      `HTTP_HEADERS_TIMEOUT_MS: expected at most HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS}), got ${env.HTTP_HEADERS_TIMEOUT_MS}`,
    ]);
  return {
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: env.HTTP_MAX_CONNECTIONS,
  };
}

/** The catalog's defaults: what every server gets unless its command reads the environment. */
export const DEFAULT_HTTP_LIMITS: HttpServerLimits = httpLimitsFromEnv({});

/** Applies the limits to a server that is not listening yet (the checking interval is read at listen). */
export function applyHttpLimits(server: Server, limits: HttpServerLimits): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // Node looks for late requests every 30 s by default, so a 1 s timeout could take 31 s to act;
  // a quarter of the shortest timeout keeps the bound close without a busy timer.
  // The property is public in Node (set from the constructor option, read when listening) but
  // missing from @types/node.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    30_000,
    Math.max(100, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  );
  if (server.listenerCount('drop') === 0) server.on('drop', () => httpMetrics.dropped.inc());
}
