import type { Logger } from '../../logger.js';
import type { EventLog } from './types.js';
// Registered in every mode: the metric names at /metrics do not depend on the log configured.
import './metrics.js';

/** Which event log to open: the embedded default, or the one N gateway instances share. */
export type EventLogSettings =
  | {
      kind: 'sqlite';
      /** The database file (its directory is created when missing). */
      file: string;
      /** Commit flush level; see SqliteEventLogOptions.synchronous. @default 'full' */
      synchronous?: 'full' | 'normal';
    }
  | {
      kind: 'redis';
      url: string;
      /** Prefix of every key: instances with the same prefix share one log. */
      prefix: string;
      /** How long a dedupe key is remembered; see RedisEventLogOptions.dedupeTtlMs. @default 7 days */
      dedupeTtlMs?: number;
    };

export async function openEventLog(settings: EventLogSettings, logger: Logger): Promise<EventLog> {
  // Each kind's code (better-sqlite3, or the Redis client and scripts) is imported only when it
  // is the one configured: a gateway holds one log, not both (issue 17, target 2).
  const log =
    settings.kind === 'sqlite'
      ? (await import('./sqlite.js')).openSqliteEventLog({
          file: settings.file,
          ...(settings.synchronous ? { synchronous: settings.synchronous } : {}),
          logger,
        })
      : await (
          await import('./redis.js')
        ).openRedisEventLog({
          url: settings.url,
          prefix: settings.prefix,
          ...(settings.dedupeTtlMs === undefined ? {} : { dedupeTtlMs: settings.dedupeTtlMs }),
          logger,
        });
  logger.info(
    settings.kind === 'sqlite'
      ? { eventLog: 'sqlite', file: settings.file, synchronous: settings.synchronous ?? 'full' }
      : { eventLog: 'redis', prefix: settings.prefix },
    'event log opened',
  );
  return log;
}
