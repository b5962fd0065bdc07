import type { SubgraphCache } from '../../lib/cache/config.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import type { PlatformName, PlatformPlans } from '../../platforms/registry.js';
import type { SubgraphAuth } from './gateway-auth.js';
import type { SubgraphServer } from './server.js';

/** What every role subgraph is given apart from its platform's connection. */
export interface SharedSubgraphSettings {
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  breaker?: BreakerSettings;
  cache?: SubgraphCache;
  requestBudgetMs?: number;
  auth: SubgraphAuth;
}

/**
 * A subgraph named by its role (`crm`), reading one platform through that platform's client. The
 * one way every command builds it: `subgraph <name>` from the environment, `npm start` against
 * the platform's sandbox with the same plan the sandbox was given.
 */
export interface RoleSubgraph {
  name: PlatformSubgraphName;
  /** The platform it reads (a descriptor in platforms/registry.ts). */
  platform: PlatformName;
  /** The variables `subgraph <name>` reads. */
  env: readonly string[];
  fromEnv(
    source: NodeJS.ProcessEnv,
    cache: SubgraphCache,
    logger: Logger,
  ): Promise<{ subgraph: SubgraphServer; port: number }>;
  /** Wired to the platform's sandbox at `origin` with the demo credentials and the plan in `plans`. */
  forSandbox(
    shared: SharedSubgraphSettings,
    origin: string,
    plans: PlatformPlans,
    logger: Logger,
  ): Promise<SubgraphServer>;
}
