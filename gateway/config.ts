import type { IncomingMessage, ServerResponse } from 'node:http';
import { catalog } from '../platforms/catalog.js';
import { loadEnv } from '../lib/config/env.js';
import { parsePrivateJwk } from '../lib/auth/gateway-token.js';
import type { CacheStore } from '../lib/cache/store.js';
import { ConfigError } from '../lib/config/env.js';
import type { AccessConfig } from './access.js';
import { authConfigFromEnv } from './auth/config.js';
import {
  PLATFORM_SUBGRAPHS,
  subgraphUrlVariable,
  type PlatformSubgraphName,
} from '../lib/graphql/subgraph-names.js';
import type { EventsConfig } from '../events/runtime.js';
import type { SubscriptionCaps } from './pipeline/subscription-slots.js';

/** How long a request may take: the deadline a client gets without asking, and the most it may ask for. */
export interface RequestDeadline {
  defaultMs: number;
  maxMs: number;
}

/** The catalog's defaults, for a gateway built without reading the environment (tests, the demo). */
export const DEFAULT_REQUEST_DEADLINE: RequestDeadline = {
  defaultMs: Number(catalog.REQUEST_DEADLINE_MS.default),
  maxMs: Number(catalog.REQUEST_DEADLINE_MAX_MS.default),
};

/** Also reads AUTH_ENV (credentials) through authConfigFromEnv. */
export const GATEWAY_ENV = [
  'HOST',
  'PORT',
  'NODE_ENV',
  'SUPERGRAPH_FILE',
  ...PLATFORM_SUBGRAPHS.map(subgraphUrlVariable),
  'SUBGRAPH_TIMEOUT_MS',
  'REQUEST_DEADLINE_MS',
  'REQUEST_DEADLINE_MAX_MS',
  'RESPONSE_CACHE',
  'AUTHORIZATION_MODE',
  'SUBSCRIPTIONS_PER_CONNECTION',
  'SUBSCRIPTIONS_PER_CLIENT',
  'GATEWAY_TOKEN_PRIVATE_JWK',
] as const;

export interface GatewayConfig extends AccessConfig {
  supergraphFile: string;
  /**
   * Overrides the URLs written in the supergraph, so one artifact serves every environment. The
   * `events` subgraph is served by this gateway unless a URL is given.
   */
  subgraphUrls: Record<PlatformSubgraphName, string> & { events?: string };
  /**
   * The event pipeline (webhooks in, subscriptions out), and the `events` subgraph over its log,
   * served by the gateway at `/subgraphs/events/` (built by the caller: the gateway reaches
   * subgraphs over HTTP only, never through their modules).
   */
  events: EventsConfig & { subgraph: { handle(req: IncomingMessage, res: ServerResponse): void } };
  subgraphTimeoutMs: number;
  /**
   * A request's deadline: `defaultMs` without an `x-request-deadline-ms` header, never more than
   * `maxMs`. @default REQUEST_DEADLINE_MS and REQUEST_DEADLINE_MAX_MS's defaults
   */
  requestDeadline?: RequestDeadline;
  mode: 'development' | 'production' | 'test';
  /** Bodies (and WebSocket frames) larger than this are refused. @default 1000000 */
  maxBodyBytes?: number;
  /** Open subscriptions per connection and per client. @default 20 per connection, 100 per client */
  subscriptionCaps?: SubscriptionCaps;
  /** Whole-response cache on or off. @default true when a cache store is given */
  responseCache?: boolean;
  /** Where responses are cached (memory or Redis), opened by the caller and shared with others. */
  cacheStore?: CacheStore;
}

/** Everything but the event pipeline, whose log the caller opens (`eventsSettingsFromEnv`). */
export function gatewayConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): Omit<GatewayConfig, 'events'> & { host: string; port: number } {
  const env = loadEnv(catalog, GATEWAY_ENV, source);
  if (!env.GATEWAY_TOKEN_PRIVATE_JWK) {
    throw new ConfigError([
      'GATEWAY_TOKEN_PRIVATE_JWK: required, expected a private Ed25519 JWK (JSON with a kid)',
    ]);
  }
  let gatewayTokenKey;
  try {
    gatewayTokenKey = parsePrivateJwk(env.GATEWAY_TOKEN_PRIVATE_JWK);
  } catch (error) {
    throw new ConfigError([
      `GATEWAY_TOKEN_PRIVATE_JWK: ${(error as Error).message.replace(/^GATEWAY_TOKEN_PRIVATE_JWK /, '')}`,
    ]);
  }
  return {
    auth: authConfigFromEnv(source),
    authorizationMode: env.AUTHORIZATION_MODE,
    gatewayTokenKey,
    host: env.HOST,
    port: env.PORT,
    mode: env.NODE_ENV,
    supergraphFile: env.SUPERGRAPH_FILE,
    // Same keys as PLATFORM_SUBGRAPHS by construction; fromEntries cannot say so in its type.
    subgraphUrls: Object.fromEntries(
      PLATFORM_SUBGRAPHS.map((name) => [name, env[subgraphUrlVariable(name)]]),
    ) as Record<PlatformSubgraphName, string>,
    subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    requestDeadline: { defaultMs: env.REQUEST_DEADLINE_MS, maxMs: env.REQUEST_DEADLINE_MAX_MS },
    responseCache: env.RESPONSE_CACHE,
    subscriptionCaps: {
      perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
      perClient: env.SUBSCRIPTIONS_PER_CLIENT,
    },
  };
}
