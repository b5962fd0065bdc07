import { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import { apiVersionRecord } from '../../lib/upstream/api-version.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import type { SubgraphCache } from '../../lib/cache/config.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { CRM_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { gatewayAuthFromEnv, type SubgraphAuth } from '../kit/gateway-auth.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { CrmContext } from './context.js';
import { createCrmLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { CRM_ENV } from './env.js';

export interface CrmSubgraphConfig {
  hubspot: {
    baseUrl: string;
    accessToken: string;
    accountId: string;
    /** Requests per rolling 10 s for this app's plan. @default 100 */
    ratePer10s?: number;
    /** Where the account's daily limit resets at midnight. @default 'UTC' */
    timeZone?: string;
  };
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  /** Tunes the platform's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** Where HubSpot records are cached and for how long; absent means no record cache. */
  cache?: SubgraphCache;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
  /** The gateway's public keys; required, because a subgraph answers the gateway only. */
  auth: SubgraphAuth;
}

export function crmConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): CrmSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, CRM_ENV, source);
  return {
    port: env.CRM_PORT,
    hubspot: {
      baseUrl: env.HUBSPOT_BASE_URL,
      accessToken: env.HUBSPOT_ACCESS_TOKEN,
      accountId: env.HUBSPOT_ACCOUNT_ID,
      ratePer10s: env.HUBSPOT_RATE_LIMIT_PER_10S,
      timeZone: env.HUBSPOT_TIME_ZONE,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    auth: gatewayAuthFromEnv(env.GATEWAY_TOKEN_JWKS),
  };
}

/** Builds the `crm` subgraph (HubSpot CRM): the system of record for who a customer is. */
export function buildCrmSubgraph(config: CrmSubgraphConfig, logger: Logger): Promise<SubgraphServer> {
  registerSecret(config.hubspot.accessToken);
  const { ratePer10s, ...hubspotSettings } = config.hubspot;
  const hubspot = new HubSpotConnector({
    ...hubspotSettings,
    timeoutMs: config.upstreamTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
    ...(config.breaker ? { breaker: config.breaker } : {}),
    logger,
    ...(ratePer10s !== undefined ? { limits: { per10s: ratePer10s } } : {}),
    ...(config.cache
      ? { cache: new RecordCache(config.cache.store, 'hubspot', config.hubspot.accountId, config.cache.ttls) }
      : {}),
  });
  return buildSubgraphServer<CrmContext>({
    name: 'crm',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? 20_000,
    context: (request) => ({ request, hubspot, loaders: createCrmLoaders(hubspot, request) }),
    invalidate: async (targets) => {
      for (const target of targets) {
        if (target.id) await hubspot.invalidateContact(target.id);
        if (target.email) await hubspot.invalidateContactByEmail(target.email);
      }
    },
    // A spent daily limit fails every call until it resets: health says so, and when.
    healthDetails: () =>
      Promise.resolve({
        hubspot: { dailyLimit: hubspot.dailyLimit(), apiVersion: apiVersionRecord('hubspot') ?? null },
      }),
    close: () => hubspot.close(),
  });
}
