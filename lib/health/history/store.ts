import type { SharedConnection } from '../recorder.js';
import type { HourlyRollup } from './rollup.js';

/**
 * Where the health history lives: the embedded SQLite file by default (beside the event log, on
 * its own connection), Redis when the event log is there (workers and gateways share it).
 * - `rollups`: per process run, connection and hour, rewritten whole as the hour fills.
 * - `recent`: one process's last 24 hours of minute figures, under a name that survives its
 *   restarts (`gateway`, `worker-<host>-<port>`), put back into the recorder when it starts again.
 * - `firstDenial`: whether a client was ever denied a field or scope before (the `client-denied-new`
 *   alert), answered atomically, so two gateways do not both call the same denial new.
 */
export interface HealthHistoryStore {
  readonly kind: 'sqlite' | 'redis';
  writeRollups(run: string, rollups: readonly HourlyRollup[]): Promise<void>;
  /** Every run's rollups of hours `fromHour` to `toHour` included, not yet merged. */
  readRollups(fromHour: number, toHour: number): Promise<HourlyRollup[]>;
  saveRecent(owner: string, connections: readonly SharedConnection[], savedAt: number): Promise<void>;
  loadRecent(owner: string): Promise<{ connections: SharedConnection[]; savedAt: number } | undefined>;
  /** True the first time (`client`, `item`) is noted, false ever after. */
  firstDenial(client: string, item: string, at: number): Promise<boolean>;
  /** Drops rollups of hours before `beforeHour`. */
  prune(beforeHour: number): Promise<void>;
  close(): Promise<void>;
}

/** Where to keep it: follows the event log's settings. */
export type HealthHistorySettings =
  { kind: 'sqlite'; file: string } | { kind: 'redis'; url: string; prefix: string };

/** @default 100 days: a quarter and some, so a review at the quarter's end sees all of it. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 100;

export async function openHealthHistoryStore(
  settings: HealthHistorySettings,
  retentionDays: number,
): Promise<HealthHistoryStore> {
  // Each kind's code is imported only when configured, like the event log's.
  if (settings.kind === 'sqlite') return (await import('./sqlite.js')).openSqliteHistory(settings.file);
  return (await import('./redis.js')).openRedisHistory(settings.url, settings.prefix, retentionDays);
}
