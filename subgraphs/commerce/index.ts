import { ShopifyConnector } from '../../connectors/shopify/connector.js';
import { catalog } from '../../lib/config/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { CommerceContext } from './context.js';
import { createCommerceLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

/** The variables the `commerce` subgraph reads: Shopify's and nothing of any other platform. */
export const COMMERCE_ENV = [
  'COMMERCE_PORT',
  'SHOPIFY_BASE_URL',
  'SHOPIFY_ACCESS_TOKEN',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
] as const;

export interface CommerceSubgraphConfig {
  shopify: { baseUrl: string; accessToken: string };
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
}

export function commerceConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): CommerceSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, COMMERCE_ENV, source);
  return {
    port: env.COMMERCE_PORT,
    shopify: { baseUrl: env.SHOPIFY_BASE_URL, accessToken: env.SHOPIFY_ACCESS_TOKEN },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
  };
}

/** Builds the `commerce` subgraph (Shopify): what customers bought and which campaigns brought them. */
export function buildCommerceSubgraph(
  config: CommerceSubgraphConfig,
  logger: Logger,
): Promise<SubgraphServer> {
  registerSecret(config.shopify.accessToken);
  const shopify = new ShopifyConnector({
    ...config.shopify,
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
  });
  return buildSubgraphServer<CommerceContext>({
    name: 'commerce',
    resolvers,
    logger,
    requestBudgetMs: config.requestBudgetMs ?? 20_000,
    context: (request) => ({ request, shopify, loaders: createCommerceLoaders(shopify, request) }),
    close: () => shopify.close(),
  });
}
