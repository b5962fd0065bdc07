import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';

/**
 * Redis-backed tests run when REDIS_URL is set (`.ci/run` sets it and makes sure Redis answers).
 * Without it they are reported as skipped, and the title says why.
 */
export const REDIS_URL = process.env['REDIS_URL'];
export const redisSuite = (name: string) => (REDIS_URL ? name : `${name} (skipped: REDIS_URL is not set)`);
/** A port nothing listens on, for "Redis is down" tests. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6399';

/**
 * Redis connections a test opens (each one "process"), and their clean-up: every key under
 * `prefix` deleted, every connection closed. Call `close` from `afterAll`.
 */
export function testRedisClients(prefix: string, options: { disableOfflineQueue?: boolean } = {}) {
  const clients: RedisClient[] = [];
  return {
    async connect(): Promise<RedisClient> {
      const client = await connectSharedRedis({ url: REDIS_URL ?? '', ...options });
      clients.push(client);
      return client;
    },
    async close(): Promise<void> {
      const [first] = clients;
      if (first) {
        const keys = await first.keys(`${prefix}:*`);
        if (keys.length > 0) await first.del(keys);
      }
      for (const client of clients) await client.close();
    },
  };
}
