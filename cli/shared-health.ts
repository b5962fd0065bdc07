import { followSharedHealth, publishHealth } from '../lib/health/shared.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import type { Logger } from '../lib/logger.js';
import { connectSharedRedis } from '../lib/redis/shared-client.js';

/**
 * The health model across processes (lib/health/shared.ts), on the Redis and under the prefix of
 * the shared event log: `worker` processes publish, gateways follow. With the embedded log there
 * are no workers (they need the shared log), so nothing is opened.
 */
export async function shareHealth(
  role: { publishAs: string } | 'follow',
  settings: EventLogSettings,
  intervalMs: number,
  logger: Logger,
): Promise<{ stop(): Promise<void> } | undefined> {
  if (settings.kind !== 'redis') return undefined;
  const redis = await connectSharedRedis({ url: settings.url });
  if (role === 'follow') {
    const follower = followSharedHealth({ redis, prefix: settings.prefix, intervalMs, logger });
    return {
      async stop() {
        follower.stop();
        if (redis.isOpen) await redis.close();
      },
    };
  }
  const publisher = publishHealth({
    redis,
    prefix: settings.prefix,
    process: role.publishAs,
    intervalMs,
    logger,
  });
  return {
    async stop() {
      await publisher.stop();
      if (redis.isOpen) await redis.close();
    },
  };
}
