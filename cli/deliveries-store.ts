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
 * outbox and its cursor sit with the events they follow. With the Redis log there is no file to
 * share; until the distributed delivery store lands, webhooks out are off there (said at start-up).
 */
export function openDeliveriesFor(
  log: EventLogSettings,
  config: DeliveriesConfigInput,
  logger: Logger,
): OpenedDeliveries | undefined {
  if (log.kind !== 'sqlite') {
    logger.info('webhooks out are not sent with EVENT_LOG=redis yet: they need the embedded event log');
    return undefined;
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
