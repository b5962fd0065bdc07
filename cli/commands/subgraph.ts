import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { buildSubgraphFromEnv } from '../../subgraphs/registry.js';
import { onShutdown } from '../shutdown.js';

/** `subgraph <name>`: one subgraph alone, holding only its own platform's credentials. */
export async function subgraphCommand(name: PlatformSubgraphName, logger: Logger): Promise<undefined> {
  const { HOST } = loadEnv(catalog, ['HOST']);
  const http = httpLimitsFromEnv();
  const { subgraph, port } = await buildSubgraphFromEnv(name, logger);
  const listening = await listen(subgraph.server, port, HOST, http);
  logger.info({ url: `${listening.origin}/graphql` }, 'subgraph listening');
  onShutdown(logger, async () => {
    await listening.close();
    await subgraph.stop();
  });
  return undefined;
}
