import { ShopifyConnector, shopAccountId } from '../../platforms/shopify/client/connector.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { COMMERCE_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { clientSettings, DEFAULT_REQUEST_BUDGET_MS, recordCacheSetting } from '../kit/client-settings.js';
import { gatewayAuthFromEnv } from '../kit/gateway-auth.js';
import type { SharedSubgraphSettings } from '../kit/role.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { CommerceContext } from './context.js';
import { createCommerceLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';
import { shopifyHealth } from './health.js';

export { COMMERCE_ENV } from './env.js';

export interface CommerceSubgraphConfig extends SharedSubgraphSettings {
  shopify: {
    baseUrl: string;
    accessToken: string;
    /** Calls Shopify's REST leaky bucket holds for this store's plan (Standard 40, Plus 400). @default 40 */
    bucketSize?: number;
    /** Calls per second the bucket drains (Standard 2, Advanced 4, Plus 20). @default 2 */
    leakPerSecond?: number;
  };
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
    ...clientSettings(config, logger),
    limits: {
      ...(bucketSize !== undefined ? { bucketSize } : {}),
      ...(leakPerSecond !== undefined ? { leakPerSecond } : {}),
    },
    ...recordCacheSetting(config, 'shopify', shopAccountId(config.shopify.baseUrl)),
  });
  return buildSubgraphServer<CommerceContext>({
    name: 'commerce',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? DEFAULT_REQUEST_BUDGET_MS,
    context: (request) => ({ request, shopify, loaders: createCommerceLoaders(shopify, request) }),
    invalidate: async (targets) => {
      for (const target of targets) if (target.email) await shopify.invalidateCustomer(target.email);
    },
    healthDetails: async (request) => ({ shopify: await shopifyHealth(shopify, request) }),
    close: () => shopify.close(),
  });
}
