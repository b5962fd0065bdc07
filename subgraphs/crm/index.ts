import { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import { apiVersionRecord } from '../../lib/upstream/api-version.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { CRM_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { clientSettings, DEFAULT_REQUEST_BUDGET_MS, recordCacheSetting } from '../kit/client-settings.js';
import { gatewayAuthFromEnv } from '../kit/gateway-auth.js';
import type { SharedSubgraphSettings } from '../kit/role.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { CrmContext } from './context.js';
import { createCrmLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { CRM_ENV } from './env.js';

export interface CrmSubgraphConfig extends SharedSubgraphSettings {
  hubspot: {
    baseUrl: string;
    accessToken: string;
    accountId: string;
    /** Requests per rolling 10 s for this app's plan. @default 100 */
    ratePer10s?: number;
    /** Where the account's daily limit resets at midnight. @default 'UTC' */
    timeZone?: string;
  };
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
    ...clientSettings(config, logger),
    ...(ratePer10s !== undefined ? { limits: { per10s: ratePer10s } } : {}),
    ...recordCacheSetting(config, 'hubspot', config.hubspot.accountId),
  });
  return buildSubgraphServer<CrmContext>({
    name: 'crm',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? DEFAULT_REQUEST_BUDGET_MS,
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
