import { MetaConnector } from '../../platforms/meta/client/connector.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import type { SubgraphCache } from '../../lib/cache/config.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { ADS_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { gatewayAuthFromEnv, type SubgraphAuth } from '../kit/gateway-auth.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { AdsContext } from './context.js';
import { createAdsLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { ADS_ENV } from './env.js';

export interface AdsSubgraphConfig {
  meta: {
    baseUrl: string;
    accessToken: string;
    adAccountId: string;
    /** Ads Insights calls per rolling hour the ad account allows (its access tier). @default 600 */
    insightsCallsPerHour?: number;
  };
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  /** Tunes the platform's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /**
   * Where Meta insights and the account currency are cached and for how long (the caller opens the
   * store). @default no record cache: every range is read from Meta once per request
   */
  cache?: SubgraphCache;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
  /** The gateway's public keys; required, because a subgraph answers the gateway only. */
  auth: SubgraphAuth;
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
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
    ...(config.breaker ? { breaker: config.breaker } : {}),
    logger,
    ...(insightsCallsPerHour !== undefined ? { limits: { insightsPerHour: insightsCallsPerHour } } : {}),
    ...(config.cache
      ? { cache: new RecordCache(config.cache.store, 'meta', config.meta.adAccountId, config.cache.ttls) }
      : {}),
  });
  return buildSubgraphServer<AdsContext>({
    name: 'ads',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? 20_000,
    context: (request) => ({ request, meta, loaders: createAdsLoaders(meta, request) }),
    close: () => meta.close(),
  });
}
