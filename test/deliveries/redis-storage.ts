import { openDeliveryStore } from '../../deliveries/store/open.js';
import { dropPrefix } from '../helpers/redis-prefix.js';
import type { DeliveryStorage } from './store-contract.js';

let prefixes = 0;
/** A key prefix no other test or parallel run uses. */
export function uniqueDeliveriesPrefix(): string {
  prefixes += 1;
  return `mgtest:deliveries:${process.pid}:${Date.now()}:${prefixes}`;
}

/** Redis delivery stores on a prefix of their own, all of it dropped by `dispose`. */
export function redisStorage(
  url: string,
  prefix = uniqueDeliveriesPrefix(),
): DeliveryStorage & { prefix: string } {
  return {
    prefix,
    open: () => openDeliveryStore({ kind: 'redis', url, prefix }),
    dispose: async () => {
      await dropPrefix(url, prefix);
    },
  };
}
