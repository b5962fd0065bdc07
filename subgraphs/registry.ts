import { cacheSettingsFromEnv, openCacheStore, type SubgraphCache } from '../lib/cache/config.js';
import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import type { Logger } from '../lib/logger.js';
import { metricsTokenFromEnv } from '../lib/server/metrics-endpoint.js';
import { adsConfigFromEnv, buildAdsSubgraph } from './ads/index.js';
import { buildCommerceSubgraph, commerceConfigFromEnv } from './commerce/index.js';
import { buildCrmSubgraph, crmConfigFromEnv } from './crm/index.js';
import { buildEmailSubgraph, emailConfigFromEnv } from './email/index.js';
import type { SubgraphAuth } from './kit/gateway-auth.js';
import type { SubgraphServer } from './kit/server.js';

export { SUBGRAPH_ENV } from './env.js';

export async function buildSubgraphFromEnv(
  name: PlatformSubgraphName,
  logger: Logger,
  source: NodeJS.ProcessEnv = process.env,
): Promise<{ subgraph: SubgraphServer; port: number }> {
  const settings = cacheSettingsFromEnv(source);
  const cache = { store: openCacheStore(settings, logger), ttls: settings.ttls };
  // Shared by every subgraph: the scraper's token for `/metrics`, beside the gateway's keys.
  const metricsToken = metricsTokenFromEnv(source);
  const built = await buildNamed(name, logger, source, cache, metricsToken);
  const stopSubgraph = built.subgraph.stop;
  const stop = async () => {
    await stopSubgraph();
    await cache.store.close();
  };
  return { port: built.port, subgraph: { ...built.subgraph, stop } };
}

async function buildNamed(
  name: PlatformSubgraphName,
  logger: Logger,
  source: NodeJS.ProcessEnv,
  cache: SubgraphCache,
  metricsToken: string | undefined,
): Promise<{ subgraph: SubgraphServer; port: number }> {
  const shared = <T extends { auth: SubgraphAuth }>(config: T) => ({
    ...config,
    cache,
    auth: { ...config.auth, ...(metricsToken ? { metricsToken } : {}) },
  });
  switch (name) {
    case 'crm': {
      const config = crmConfigFromEnv(source);
      return { subgraph: await buildCrmSubgraph(shared(config), logger), port: config.port };
    }
    case 'email': {
      const config = emailConfigFromEnv(source);
      return { subgraph: await buildEmailSubgraph(shared(config), logger), port: config.port };
    }
    case 'commerce': {
      const config = commerceConfigFromEnv(source);
      return { subgraph: await buildCommerceSubgraph(shared(config), logger), port: config.port };
    }
    case 'ads': {
      const config = adsConfigFromEnv(source);
      return { subgraph: await buildAdsSubgraph(shared(config), logger), port: config.port };
    }
  }
}
