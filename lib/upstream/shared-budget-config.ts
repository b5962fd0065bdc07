import { connectSharedRedis } from '../redis/shared-client.js';
import type { Logger } from '../logger.js';
import { shareAccountBudgets } from './account-throttles.js';
import { SharedBudgets } from './shared-budget.js';

/**
 * Makes this process's platform connectors share each account's rate limit with every other
 * process on the same Redis (REDIS_URL): called by the processes that run several at once
 * (`subgraph`, `worker`) before they build a connector. Without a Redis URL nothing changes: one
 * budget per process. Answers how to undo it (close the connection).
 */
export async function shareBudgetsThrough(
  redisUrl: string | undefined,
  logger: Logger,
  prefix = 'mg:upstream',
): Promise<() => Promise<void>> {
  if (!redisUrl) return async () => undefined;
  const client = await connectSharedRedis({
    url: redisUrl,
    // A call must not wait for Redis to come back: the budget falls back to this process's own.
    disableOfflineQueue: true,
    onError: (error) =>
      logger.warn(
        { error: error instanceof Error ? error.message : 'unknown error' },
        'the shared rate-limit budget cannot reach Redis; each process counts alone until it can',
      ),
  });
  shareAccountBudgets(new SharedBudgets({ client, prefix }));
  return async () => {
    shareAccountBudgets(undefined);
    await client.close();
  };
}
