import { openSqliteDeliveryStore } from './sqlite.js';
import type { DeliveryStore } from './types.js';

/**
 * Which delivery store to open. Embedded: the event log's SQLite file (pass the same `file` as
 * `eventLogSettings` gives, `<DATA_DIR>/events.db`), for one process. Distributed: Redis, shared
 * by every worker on the same `url` and `prefix` (claims with leases, changes published to the
 * other workers); opening it connects, so it returns a promise.
 */
export type SqliteDeliveryStoreSettings = {
  kind: 'sqlite';
  file: string;
  /** @default 'normal' (see SqliteDeliveryStoreOptions.synchronous) */
  synchronous?: 'full' | 'normal';
};
export type RedisDeliveryStoreSettings = {
  kind: 'redis';
  url: string;
  /** @default 'mg:deliveries' */
  prefix?: string;
};
export type DeliveryStoreSettings = SqliteDeliveryStoreSettings | RedisDeliveryStoreSettings;

export function openDeliveryStore(settings: SqliteDeliveryStoreSettings): DeliveryStore;
export function openDeliveryStore(settings: RedisDeliveryStoreSettings): Promise<DeliveryStore>;
export function openDeliveryStore(settings: DeliveryStoreSettings): DeliveryStore | Promise<DeliveryStore>;
export function openDeliveryStore(settings: DeliveryStoreSettings): DeliveryStore | Promise<DeliveryStore> {
  // The Redis store (its client, scripts and subscriber) is imported only when configured: opening
  // it is async anyway, and an embedded gateway never needs it (issue 17, target 2).
  if (settings.kind === 'redis')
    return import('./redis.js').then(({ openRedisDeliveryStore }) =>
      openRedisDeliveryStore({
        url: settings.url,
        ...(settings.prefix === undefined ? {} : { prefix: settings.prefix }),
      }),
    );
  return openSqliteDeliveryStore({
    file: settings.file,
    ...(settings.synchronous ? { synchronous: settings.synchronous } : {}),
  });
}
