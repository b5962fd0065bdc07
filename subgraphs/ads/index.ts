import { MetaConnector } from '../../connectors/meta/connector.js';
import { catalog } from '../../lib/config/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { AdsContext } from './context.js';
import { createAdsLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

/** The variables the `ads` subgraph reads: Meta's and nothing of any other platform. */
export const ADS_ENV = [
  'ADS_PORT',
  'META_BASE_URL',
  'META_ACCESS_TOKEN',
  'META_AD_ACCOUNT_ID',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
] as const;

export interface AdsSubgraphConfig {
  meta: { baseUrl: string; accessToken: string; adAccountId: string };
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
}

export function adsConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): AdsSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, ADS_ENV, source);
  return {
    port: env.ADS_PORT,
    meta: {
      baseUrl: env.META_BASE_URL,
      accessToken: env.META_ACCESS_TOKEN,
      adAccountId: env.META_AD_ACCOUNT_ID,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
  };
}

/** Builds the `ads` subgraph (Meta Ads Insights): what paid advertising delivered and cost. */
export function buildAdsSubgraph(config: AdsSubgraphConfig, logger: Logger): Promise<SubgraphServer> {
  registerSecret(config.meta.accessToken);
  const meta = new MetaConnector({
    ...config.meta,
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
  });
  return buildSubgraphServer<AdsContext>({
    name: 'ads',
    resolvers,
    logger,
    requestBudgetMs: config.requestBudgetMs ?? 20_000,
    context: (request) => ({ request, meta, loaders: createAdsLoaders(meta, request) }),
    close: () => meta.close(),
  });
}
