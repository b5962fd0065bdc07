import { coreCatalog as catalog } from '../config/catalog.js';
import { loadEnv } from '../config/env.js';
import { registerSecret, type Logger } from '../logger.js';
import type { RecordTtls } from './record-cache.js';
import { createCacheStore, type CacheStore } from './store.js';

export const CACHE_ENV = [
  'REDIS_URL',
  'CACHE_MAX_ENTRIES',
  'CACHE_TTL_PROFILE_S',
  'CACHE_TTL_SUBSCRIPTION_S',
  'CACHE_TTL_ORDERS_S',
  'CACHE_TTL_CAMPAIGN_REPORTS_S',
  'CACHE_TTL_ABSENT_S',
] as const;

export interface CacheSettings {
  redisUrl?: string | undefined;
  maxEntries: number;
  ttls: RecordTtls;
  /** Key prefix, so tests (or products) sharing one Redis stay apart. @default 'mg' */
  namespace?: string;
}

/** What a subgraph needs to cache its platform's records. */
export interface SubgraphCache {
  store: CacheStore;
  ttls: RecordTtls;
}

export function cacheSettingsFromEnv(source: NodeJS.ProcessEnv = process.env): CacheSettings {
  const env = loadEnv(catalog, CACHE_ENV, source);
  return {
    redisUrl: env.REDIS_URL,
    maxEntries: env.CACHE_MAX_ENTRIES,
    ttls: {
      profile: env.CACHE_TTL_PROFILE_S,
      subscription: env.CACHE_TTL_SUBSCRIPTION_S,
      orders: env.CACHE_TTL_ORDERS_S,
      campaignReports: env.CACHE_TTL_CAMPAIGN_REPORTS_S,
      absent: env.CACHE_TTL_ABSENT_S,
    },
  };
}

/** Opens the configured store: Redis when `REDIS_URL` is set, bounded memory otherwise. */
export function openCacheStore(settings: CacheSettings, logger: Logger): CacheStore {
  if (settings.redisUrl) {
    // The password in a Redis URL is a secret like any other.
    const password = new URL(settings.redisUrl).password;
    if (password) registerSecret(decodeURIComponent(password));
  }
  return createCacheStore({
    redisUrl: settings.redisUrl,
    maxEntries: settings.maxEntries,
    logger,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
  });
}
