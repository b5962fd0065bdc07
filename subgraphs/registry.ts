import { cacheSettingsFromEnv, openCacheStore } from '../lib/cache/config.js';
import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import type { Logger } from '../lib/logger.js';
import { metricsTokenFromEnv } from '../lib/server/metrics-endpoint.js';
import { shareBudgetsThrough } from '../lib/upstream/shared-budget-config.js';
import { adsRole } from './ads/role.js';
import { commerceRole } from './commerce/role.js';
import { crmRole } from './crm/role.js';
import { emailRole } from './email/role.js';
import { messagingRole } from './messaging/role.js';
import type { RoleSubgraph } from './kit/role.js';
import type { SubgraphServer } from './kit/server.js';

export { SUBGRAPH_ENV } from './env.js';

/** The role subgraphs, each reading one platform: the one list `start` and `subgraph <name>` build from. */
export const ROLE_SUBGRAPHS: readonly RoleSubgraph[] = [
  crmRole,
  emailRole,
  commerceRole,
  adsRole,
  messagingRole,
];

export function roleSubgraph(name: PlatformSubgraphName): RoleSubgraph {
  const role = ROLE_SUBGRAPHS.find((candidate) => candidate.name === name);
  if (!role) throw new Error(`no role subgraph ${name}`);
  return role;
}

export async function buildSubgraphFromEnv(
  name: PlatformSubgraphName,
  logger: Logger,
  source: NodeJS.ProcessEnv = process.env,
): Promise<{ subgraph: SubgraphServer; port: number }> {
  const settings = cacheSettingsFromEnv(source);
  // Several instances of a subgraph (and the workers) spend each platform account's one limit.
  const unshare = await shareBudgetsThrough(settings.redisUrl, logger);
  const cache = { store: openCacheStore(settings, logger), ttls: settings.ttls };
  // Shared by every subgraph: the scraper's token for `/metrics`, beside the gateway's keys.
  const metricsToken = metricsTokenFromEnv(source);
  const built = await roleSubgraph(name).fromEnv(
    source,
    { cache, ...(metricsToken ? { metricsToken } : {}) },
    logger,
  );
  const stopSubgraph = built.subgraph.stop;
  const stop = async () => {
    await stopSubgraph();
    await cache.store.close();
    await unshare();
  };
  return { port: built.port, subgraph: { ...built.subgraph, stop } };
}
