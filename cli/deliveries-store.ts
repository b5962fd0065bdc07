import { deliveryManagement, openDeliveryStore, type DeliveryService } from '../deliveries/index.js';
import type { DeliveriesConfigInput } from '../deliveries/config.js';
import type { DeliveryStore } from '../deliveries/store/types.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import type { Logger } from '../lib/logger.js';

export interface OpenedDeliveries {
  /** For the event pipeline (`EventsConfig.deliveries`), which runs the dispatcher. */
  store: DeliveryStore;
  config: DeliveriesConfigInput;
  /** For the events subgraph's management API: its own service, heard by the dispatcher through the store. */
  management: DeliveryService;
  close(): Promise<void>;
}

/**
 * The delivery store next to the event log: the embedded one in the log's own SQLite file, so the
 * outbox and its cursor sit with the events they follow; with the Redis log, the distributed store
 * on the same Redis under the log's prefix (`<prefix>:deliveries`), shared by every instance.
 */
export async function openDeliveriesFor(
  log: EventLogSettings,
  config: DeliveriesConfigInput,
  logger: Logger,
): Promise<OpenedDeliveries> {
  if (log.kind === 'redis') {
    const settings = { kind: 'redis', url: log.url, prefix: `${log.prefix}:deliveries` } as const;
    const store = await openDeliveryStore(settings);
    // Its own connection, as the management API would have in another process.
    const managementStore = await openDeliveryStore(settings).catch(async (error: unknown) => {
      await store.close();
      throw error;
    });
    return {
      store,
      config,
      management: deliveryManagement({ store: managementStore, config, logger }),
      async close() {
        await managementStore.close();
        await store.close();
      },
    };
  }
  const store = openDeliveryStore({ kind: 'sqlite', file: log.file });
  // The management API works on a connection of its own, as it would in another process; an
  // in-memory log (tests) has no file a second connection could open, so it shares the one.
  const managementStore =
    log.file === ':memory:' ? store : openDeliveryStore({ kind: 'sqlite', file: log.file });
  return {
    store,
    config,
    management: deliveryManagement({ store: managementStore, config, logger }),
    async close() {
      if (managementStore !== store) await managementStore.close();
      await store.close();
    },
  };
}
