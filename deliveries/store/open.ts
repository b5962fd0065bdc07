import { openSqliteDeliveryStore } from './sqlite.js';
import type { DeliveryStore } from './types.js';

/**
 * Which delivery store to open. Embedded: the event log's SQLite file (pass the same `file` as
 * `eventLogSettings` gives, `<DATA_DIR>/events.db`). The distributed store (Redis) is a later
 * addition behind the same interface.
 */
export type DeliveryStoreSettings = {
  kind: 'sqlite';
  file: string;
  /** @default 'normal' (see SqliteDeliveryStoreOptions.synchronous) */
  synchronous?: 'full' | 'normal';
};

export function openDeliveryStore(settings: DeliveryStoreSettings): DeliveryStore {
  return openSqliteDeliveryStore({
    file: settings.file,
    ...(settings.synchronous ? { synchronous: settings.synchronous } : {}),
  });
}
