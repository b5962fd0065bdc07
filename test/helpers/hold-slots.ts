import { connectSharedRedis } from '../../lib/redis/shared-client.js';
import { takeSlot } from '../../lib/upstream/shared-semaphore.js';

/**
 * `node --import tsx test/helpers/hold-slots.ts KEY LIMIT LEASE_MS`: a process that takes every
 * slot of a shared cap, says `held`, and keeps them (renewing their leases) until it is killed;
 * what a worker killed in the middle of its calls leaves behind.
 */
const [key, limit, leaseMs] = process.argv.slice(2);
const client = await connectSharedRedis({ url: process.env['REDIS_URL'] ?? '' });
for (let i = 0; i < Number(limit); i++) {
  const slot = await takeSlot(client, key ?? '', Number(limit), Number(leaseMs));
  if (typeof slot === 'number') throw new Error('a slot was taken already');
}
process.stdout.write('held\n');
setInterval(() => undefined, 60_000);
