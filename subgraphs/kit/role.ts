import type { SubgraphCache } from '../../lib/cache/config.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import type { PlatformName, PlatformPlans } from '../../platforms/registry.js';
import type { SubgraphAuth } from './gateway-auth.js';
import type { SubgraphServer } from './server.js';

/** What every role subgraph is given apart from its platform's connection. */
export interface SharedSubgraphSettings {
  /** How long one call to the platform may take. */
  upstreamTimeoutMs: number;
  /** Retries of a failed idempotent call to the platform. */
  upstreamMaxRetries: number;
  /** Tunes the platform's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** Where the platform's records are cached and for how long; absent means no record cache. */
  cache?: SubgraphCache;
  /** Time budget of one GraphQL request to this subgraph. @default 20000 */
  requestBudgetMs?: number;
  /** The gateway's public keys; required, because a subgraph answers the gateway only. */
  auth: SubgraphAuth;
}

/** What `subgraph <name>` adds to a role's own configuration: the shared cache and the scraper's token. */
export interface FromEnvExtras {
  cache: SubgraphCache;
  /** Bearer token for the subgraph's `/metrics` (METRICS_TOKEN); unset refuses everyone. */
  metricsToken?: string;
}

/** A role's configuration with the extras every `subgraph <name>` process shares. */
export function withExtras<T extends { auth: SubgraphAuth }>(config: T, extras: FromEnvExtras) {
  return {
    ...config,
    cache: extras.cache,
    auth: { ...config.auth, ...(extras.metricsToken ? { metricsToken: extras.metricsToken } : {}) },
  };
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
    extras: FromEnvExtras,
    logger: Logger,
  ): Promise<{ subgraph: SubgraphServer; port: number }>;
  /**
   * The platform's connection (URL, credentials, limits) as `subgraph <name>` reads it from the
   * environment, for a `worker` running the routing rules' actions on this platform. Absent: the
   * platform has no actions. Throws ConfigError like `fromEnv`.
   */
  actionConnectionFromEnv?(source: NodeJS.ProcessEnv): unknown;
  /** Wired to the platform's sandbox at `origin` with the demo credentials and the plan in `plans`. */
  forSandbox(
    shared: SharedSubgraphSettings,
    origin: string,
    plans: PlatformPlans,
    logger: Logger,
  ): Promise<SubgraphServer>;
}
