import { ShopifyConnector, shopAccountId } from '../../platforms/shopify/client/connector.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import type { SubgraphCache } from '../../lib/cache/config.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { COMMERCE_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { gatewayAuthFromEnv, type SubgraphAuth } from '../kit/gateway-auth.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { CommerceContext } from './context.js';
import { createCommerceLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';
import { shopifyHealth } from './health.js';

export { COMMERCE_ENV } from './env.js';

export interface CommerceSubgraphConfig {
  shopify: {
    baseUrl: string;
    accessToken: string;
    /** Calls Shopify's REST leaky bucket holds for this store's plan (Standard 40, Plus 400). @default 40 */
    bucketSize?: number;
    /** Calls per second the bucket drains (Standard 2, Advanced 4, Plus 20). @default 2 */
    leakPerSecond?: number;
  };
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  /** Tunes the platform's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** Where Shopify records are cached and for how long; absent means no record cache. */
  cache?: SubgraphCache;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
  /** The gateway's public keys; required, because a subgraph answers the gateway only. */
  auth: SubgraphAuth;
}

export function commerceConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): CommerceSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, COMMERCE_ENV, source);
  return {
    port: env.COMMERCE_PORT,
    shopify: {
      baseUrl: env.SHOPIFY_BASE_URL,
      accessToken: env.SHOPIFY_ACCESS_TOKEN,
      bucketSize: env.SHOPIFY_BUCKET_SIZE,
      leakPerSecond: env.SHOPIFY_LEAK_PER_S,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    auth: gatewayAuthFromEnv(env.GATEWAY_TOKEN_JWKS),
  };
}

/** Builds the `commerce` subgraph (Shopify): what customers bought and which campaigns brought them. */
export function buildCommerceSubgraph(
  config: CommerceSubgraphConfig,
  logger: Logger,
): Promise<SubgraphServer> {
  registerSecret(config.shopify.accessToken);
  const { bucketSize, leakPerSecond, ...shopifySettings } = config.shopify;
  const shopify = new ShopifyConnector({
    ...shopifySettings,
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
    ...(config.breaker ? { breaker: config.breaker } : {}),
    logger,
    limits: {
      ...(bucketSize !== undefined ? { bucketSize } : {}),
      ...(leakPerSecond !== undefined ? { leakPerSecond } : {}),
    },
    ...(config.cache
      ? {
          cache: new RecordCache(
            config.cache.store,
            'shopify',
            shopAccountId(config.shopify.baseUrl),
            config.cache.ttls,
          ),
        }
      : {}),
  });
  return buildSubgraphServer<CommerceContext>({
    name: 'commerce',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? 20_000,
    context: (request) => ({ request, shopify, loaders: createCommerceLoaders(shopify, request) }),
    invalidate: async (targets) => {
      for (const target of targets) if (target.email) await shopify.invalidateCustomer(target.email);
    },
    healthDetails: async (request) => ({ shopify: await shopifyHealth(shopify, request) }),
    close: () => shopify.close(),
  });
}
