/**
 * The crash test's victim: webhook deliveries over the SQLite file `DELIVERIES_FILE` in a process
 * of its own, on the real clock, with 127.0.0.1 allow-listed, until it is killed. Prints `ready`
 * once it is sending.
 */
import { openDeliveryStore, startDeliveries } from '../../deliveries/index.js';
import { createLogger } from '../../lib/logger.js';

const file = process.env['DELIVERIES_FILE'];
if (!file) throw new Error('DELIVERIES_FILE is not set');
await startDeliveries({
  store: openDeliveryStore({ kind: 'sqlite', file }),
  config: { allowHttp: true, allow: ['127.0.0.1/32'] },
  emit: async () => undefined,
  logger: createLogger({ name: 'deliveries-victim', level: 'warn' }),
});
process.stdout.write('ready\n');
// The dispatcher's timers do not hold the process open; this does, until the kill.
setInterval(() => undefined, 60_000);
