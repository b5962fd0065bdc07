import { cacheSettingsFromEnv, openCacheStore } from '../lib/cache/config.js';
import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import type { Logger } from '../lib/logger.js';
import { metricsTokenFromEnv } from '../lib/server/metrics-endpoint.js';
import { shareBudgetsThrough } from '../lib/upstream/shared-budget-config.js';
import type { RoleSubgraph } from './kit/role.js';
import type { SubgraphServer } from './kit/server.js';
import { ROLE_DECLARATIONS } from './roles.js';

export { SUBGRAPH_ENV } from './env.js';

export { ROLE_DECLARATIONS } from './roles.js';

/**
 * Every role subgraph's code, in `subgraphs/roles.ts` order: what `start` builds from. Imported on
 * first call, so a command that only reads the declarations loads no platform client.
 */
export function loadRoleSubgraphs(): Promise<RoleSubgraph[]> {
  return Promise.all(ROLE_DECLARATIONS.map((role) => role.load()));
}

export async function roleSubgraph(name: PlatformSubgraphName): Promise<RoleSubgraph> {
  const declaration = ROLE_DECLARATIONS.find((candidate) => candidate.name === name);
  if (!declaration) throw new Error(`no role subgraph ${name}`);
  return declaration.load();
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
  const built = await (
    await roleSubgraph(name)
  ).fromEnv(source, { cache, ...(metricsToken ? { metricsToken } : {}) }, logger);
  const stopSubgraph = built.subgraph.stop;
  const stop = async () => {
    await stopSubgraph();
    await cache.store.close();
    await unshare();
  };
  return { port: built.port, subgraph: { ...built.subgraph, stop } };
}
