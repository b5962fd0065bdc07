import { hostname } from 'node:os';
import { startHealthHistory, type HealthHistory } from '../lib/health/history/keeper.js';
import { openHealthHistoryStore } from '../lib/health/history/store.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import type { Logger } from '../lib/logger.js';

/**
 * The health history (lib/health/history) where the event log is: its SQLite file, or its Redis
 * under its prefix. `role` and `port` name the process across its restarts (`gateway`,
 * `worker-<host>-<port>`), so it gets its own recent figures back; a port of 0 (tests) has no
 * stable name, so it gets a run-unique one and restores nothing.
 */
export async function openHealthHistory(options: {
  role: 'gateway' | 'worker';
  port: number;
  settings: EventLogSettings;
  retentionDays: number;
  flushMs?: number;
  logger: Logger;
}): Promise<HealthHistory> {
  const store = await openHealthHistoryStore(
    options.settings.kind === 'sqlite'
      ? { kind: 'sqlite', file: options.settings.file }
      : { kind: 'redis', url: options.settings.url, prefix: options.settings.prefix },
    options.retentionDays,
  );
  const owner =
    options.settings.kind === 'sqlite'
      ? // One process writes the embedded file: its name is its role.
        options.role
      : `${options.role}-${hostname()}-${options.port === 0 ? `pid${process.pid}` : options.port}`;
  return startHealthHistory({
    store,
    owner,
    retentionDays: options.retentionDays,
    ...(options.flushMs ? { flushMs: options.flushMs } : {}),
    logger: options.logger,
  });
}
