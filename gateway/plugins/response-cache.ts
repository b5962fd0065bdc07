import type { ApolloServerPlugin } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { cacheMetrics } from '../../lib/cache/metrics.js';
import type { CacheStore } from '../../lib/cache/store.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import { scopeKey } from '../identity.js';

/**
 * The response cache's view of the store: every call bounded by a timeout, and every failure (Redis
 * down, slow, refusing writes) a miss or a dropped write, counted and logged at most every 10 s.
 * (ErrorsAreMissesCache only guards reads; a failed write would surface as an error.)
 */
class ResilientCache implements KeyValueCache<string> {
  private lastWarning = 0;

  constructor(
    private readonly inner: KeyValueCache<string>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  private async guard<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`took longer than ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      cacheMetrics.errors.inc({ store: 'response', operation });
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { operation, err: { message: (error as Error).message } },
          'response cache unavailable; answering without it',
        );
      }
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  get(key: string) {
    return this.guard('get', () => this.inner.get(key), undefined);
  }
  set(key: string, value: string, options?: { ttl?: number | null }) {
    return this.guard('set', () => this.inner.set(key, value, options), undefined);
  }
  delete(key: string) {
    return this.guard('delete', () => this.inner.delete(key).then(() => undefined), undefined);
  }
}

/**
 * Whole-response cache at the gateway, driven by the `@cacheControl` hints the subgraphs declare
 * (the gateway reads them from each subgraph's Cache-Control header and keeps the most restrictive).
 * - PRIVATE responses (personal data) are cached per client and never served to another; an
 *   anonymous caller's PRIVATE responses are not cached at all.
 * - Every entry is also keyed by the caller's scope set, so a response built for one set of
 *   permissions is never served to a caller with another.
 * - Responses with errors are never cached (the plugin's rule); the plugin sets `Age` on hits.
 * - A cache outage is a miss: errors and calls slower than 150 ms are counted, logged and ignored.
 */
export function responseCache(store: CacheStore, logger: Logger): ApolloServerPlugin<GatewayContext> {
  const cache = new ResilientCache(
    new PrefixingKeyValueCache(new KeyvAdapter<string>(store.keyv), `${store.namespace}:rc:`),
    150,
    logger.child({ component: 'response-cache' }),
  );
  return responseCachePlugin<GatewayContext>({
    cache,
    sessionId: async ({ contextValue }) =>
      contextValue.client.via === 'anonymous' ? null : contextValue.client.id,
    extraCacheKeyData: async ({ contextValue }) => scopeKey(contextValue.client),
  });
}
