import { openRedisActionOutbox } from '../events/actions/outbox-redis.js';
import { openSqliteActionOutbox } from '../events/actions/outbox-sqlite.js';
import type { ActionOutbox } from '../events/actions/outbox.js';
import type { EventLogSettings } from '../lib/events/log/open.js';

/**
 * The action outbox next to the event log, as the delivery store is: a table in the log's SQLite
 * file (one process), or with the Redis log the distributed outbox on the same Redis under the
 * log's prefix (`<prefix>:actions`), shared by every worker with leases of `visibilityMs`.
 */
export async function openActionOutboxFor(
  log: EventLogSettings,
  options: { visibilityMs?: number } = {},
): Promise<ActionOutbox> {
  if (log.kind === 'redis')
    return openRedisActionOutbox({
      url: log.url,
      prefix: `${log.prefix}:actions`,
      ...(options.visibilityMs !== undefined ? { visibilityMs: options.visibilityMs } : {}),
    });
  return openSqliteActionOutbox({ file: log.file, synchronous: log.synchronous ?? 'full' });
}
