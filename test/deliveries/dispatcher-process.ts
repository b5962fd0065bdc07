/**
 * A worker for the crash tests: webhook deliveries in a process of their own, on the real clock,
 * with 127.0.0.1 allow-listed, until it is killed. The store is the SQLite file `DELIVERIES_FILE`,
 * or Redis at `DELIVERIES_REDIS_URL` with key prefix `DELIVERIES_PREFIX`; `DELIVERIES_CONFIG`
 * (JSON) adds to the config. Prints `ready <dispatcher owner>` once it is sending.
 */
import { openDeliveryStore, startDeliveries } from '../../deliveries/index.js';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import { createLogger } from '../../lib/logger.js';

const file = process.env['DELIVERIES_FILE'];
const redisUrl = process.env['DELIVERIES_REDIS_URL'];
let store: DeliveryStore;
if (redisUrl) {
  const prefix = process.env['DELIVERIES_PREFIX'];
  store = await openDeliveryStore({ kind: 'redis', url: redisUrl, ...(prefix ? { prefix } : {}) });
} else if (file) store = openDeliveryStore({ kind: 'sqlite', file });
else throw new Error('Neither DELIVERIES_FILE nor DELIVERIES_REDIS_URL is set');
const extra = JSON.parse(process.env['DELIVERIES_CONFIG'] ?? '{}') as Record<string, unknown>;
const deliveries = await startDeliveries({
  store,
  config: { allowHttp: true, allow: ['127.0.0.1/32'], ...extra },
  emit: async () => undefined,
  logger: createLogger({ name: 'deliveries-worker', level: 'warn' }),
});
process.stdout.write(`ready ${deliveries.dispatcher.owner}\n`);
// The dispatcher's timers do not hold the process open; this does, until the kill.
setInterval(() => undefined, 60_000);
