import { RecordCache } from '../../lib/cache/record-cache.js';
import type { Logger } from '../../lib/logger.js';
import type { SharedSubgraphSettings } from './role.js';

/** What a request to this subgraph may take at most, unless the role's configuration says. */
export const DEFAULT_REQUEST_BUDGET_MS = 20_000;

/**
 * The settings every role subgraph hands its platform's client (timeout, retries, breaker, logger),
 * so the five role subgraphs cannot drift apart in how they call a platform.
 */
export function clientSettings(shared: Omit<SharedSubgraphSettings, 'auth'>, logger: Logger) {
  return {
    timeoutMs: shared.upstreamTimeoutMs,
    maxRetries: shared.upstreamMaxRetries,
    ...(shared.breaker ? { breaker: shared.breaker } : {}),
    logger,
  };
}

/** The client's `cache` option: a record cache for this platform account when the role was given a store. */
export function recordCacheSetting(
  shared: Pick<SharedSubgraphSettings, 'cache'>,
  platform: RecordCache['platform'],
  account: string,
): { cache?: RecordCache } {
  return shared.cache
    ? { cache: new RecordCache(shared.cache.store, platform, account, shared.cache.ttls) }
    : {};
}
