import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/shared-client.js';
import { shareAccountBudgets } from './account-throttles.js';
import { SharedBudgets } from './shared-budget.js';

/**
 * Makes this process's platform connectors share each account's rate limit with every other
 * process on the same Redis (REDIS_URL): called by the processes that run several at once
 * (`subgraph`, `worker`) before they build a connector. Without a Redis URL nothing changes: one
 * budget per process. Like the cache beside it, it never stops the process: while Redis cannot be
 * reached (at start or later) each process counts alone, and they share again once it can.
 * Answers how to undo it (close the connection). The Redis client loads only when a URL is given:
 * a process without Redis never pays for it.
 */
export async function shareBudgetsThrough(
  redisUrl: string | undefined,
  logger: Logger,
  prefix = 'mg:upstream',
): Promise<() => Promise<void>> {
  if (!redisUrl) return async () => undefined;
  const { createClient } = await import('@keyv/redis');
  let reachable = true;
  const client: RedisClient = createClient({
    url: redisUrl,
    // A call must not wait for Redis to come back: the budget falls back to this process's own.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000),
    },
  });
  // Said once per outage, not at every reconnect attempt.
  client.on('error', (error: unknown) => {
    if (!reachable) return;
    reachable = false;
    logger.warn(
      { error: error instanceof Error ? error.message : 'unknown error' },
      'the shared rate-limit budget cannot reach Redis; this process counts alone until it can',
    );
  });
  client.on('ready', () => {
    reachable = true;
  });
  client.connect().catch(() => undefined);
  shareAccountBudgets(new SharedBudgets({ client, prefix }));
  return async () => {
    shareAccountBudgets(undefined);
    await client.close().catch(() => undefined);
  };
}
