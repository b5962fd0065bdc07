import { createClient } from '@keyv/redis';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import type { DeliveryStorage } from './store-contract.js';

let prefixes = 0;
/** A key prefix no other test or parallel run uses. */
export function uniqueDeliveriesPrefix(): string {
  prefixes += 1;
  return `mgtest:deliveries:${process.pid}:${Date.now()}:${prefixes}`;
}

/** Deletes every key of a prefix. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `{${prefix}}:*`, COUNT: 1_000 }))
      keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

/** Redis delivery stores on a prefix of their own, all of it dropped by `dispose`. */
export function redisStorage(
  url: string,
  prefix = uniqueDeliveriesPrefix(),
): DeliveryStorage & { prefix: string } {
  return {
    prefix,
    open: () => openDeliveryStore({ kind: 'redis', url, prefix }),
    dispose: () => dropPrefix(url, prefix),
  };
}
