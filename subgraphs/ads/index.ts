import { MetaConnector } from '../../platforms/meta/client/connector.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { ADS_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { clientSettings, DEFAULT_REQUEST_BUDGET_MS, recordCacheSetting } from '../kit/client-settings.js';
import { gatewayAuthFromEnv } from '../kit/gateway-auth.js';
import type { SharedSubgraphSettings } from '../kit/role.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { AdsContext } from './context.js';
import { createAdsLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { ADS_ENV } from './env.js';

export interface AdsSubgraphConfig extends SharedSubgraphSettings {
  meta: {
    baseUrl: string;
    accessToken: string;
    adAccountId: string;
    /** Ads Insights calls per rolling hour the ad account allows (its access tier). @default 600 */
    insightsCallsPerHour?: number;
  };
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
      insightsCallsPerHour: env.META_INSIGHTS_CALLS_PER_HOUR,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    auth: gatewayAuthFromEnv(env.GATEWAY_TOKEN_JWKS),
  };
}

/** Builds the `ads` subgraph (Meta Ads Insights): what paid advertising delivered and cost. */
export function buildAdsSubgraph(config: AdsSubgraphConfig, logger: Logger): Promise<SubgraphServer> {
  registerSecret(config.meta.accessToken);
  const { insightsCallsPerHour, ...metaSettings } = config.meta;
  const meta = new MetaConnector({
    ...metaSettings,
    ...clientSettings(config, logger),
    ...(insightsCallsPerHour !== undefined ? { limits: { insightsPerHour: insightsCallsPerHour } } : {}),
    ...recordCacheSetting(config, 'meta', config.meta.adAccountId),
  });
  return buildSubgraphServer<AdsContext>({
    name: 'ads',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? DEFAULT_REQUEST_BUDGET_MS,
    context: (request) => ({ request, meta, loaders: createAdsLoaders(meta, request) }),
    close: () => meta.close(),
  });
}
