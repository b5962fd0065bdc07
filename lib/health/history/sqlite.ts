import type Database from 'better-sqlite3';
import { z } from 'zod';
import { openSqliteFile } from '../../events/log/sqlite-file.js';
import type { SharedConnection } from '../recorder.js';
import { sharedConnectionSchema } from '../shared.js';
import { hourlyRollupSchema, type HourlyRollup } from './rollup.js';
import type { HealthHistoryStore } from './store.js';

const recentSchema = z.array(sharedConnectionSchema);

/**
 * The health history in the embedded SQLite file (the event log's `events.db`, on a connection of
 * its own): three small tables. A rollup row is rewritten whole (INSERT OR REPLACE) each flush.
 */
export function openSqliteHistory(file: string): HealthHistoryStore {
  const db: Database.Database = openSqliteFile({
    file,
    // Figures, not a ledger: a power loss may cost the last flush, never the file.
    synchronous: 'normal',
    busyTimeoutMs: 5_000,
    role: 'the health history',
  });
  db.exec(`
    CREATE TABLE IF NOT EXISTS health_rollups (
      run TEXT NOT NULL, connection TEXT NOT NULL, hour INTEGER NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (run, connection, hour));
    CREATE INDEX IF NOT EXISTS health_rollups_hour ON health_rollups (hour);
    CREATE TABLE IF NOT EXISTS health_recent (owner TEXT PRIMARY KEY, saved_at INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS client_denials (
      client TEXT NOT NULL, item TEXT NOT NULL, first_at INTEGER NOT NULL, PRIMARY KEY (client, item));
  `);
  const upsert = db.prepare(
    'INSERT OR REPLACE INTO health_rollups (run, connection, hour, data) VALUES (?, ?, ?, ?)',
  );
  const writeAll = db.transaction((run: string, rollups: readonly HourlyRollup[]) => {
    for (const rollup of rollups) upsert.run(run, rollup.connection, rollup.hour, JSON.stringify(rollup));
  });
  const select = db.prepare<[number, number], { data: string }>(
    'SELECT data FROM health_rollups WHERE hour BETWEEN ? AND ?',
  );
  const saveRecent = db.prepare(
    'INSERT OR REPLACE INTO health_recent (owner, saved_at, data) VALUES (?, ?, ?)',
  );
  const loadRecent = db.prepare<[string], { saved_at: number; data: string }>(
    'SELECT saved_at, data FROM health_recent WHERE owner = ?',
  );
  const denial = db.prepare('INSERT OR IGNORE INTO client_denials (client, item, first_at) VALUES (?, ?, ?)');
  const prune = db.prepare('DELETE FROM health_rollups WHERE hour < ?');
  return {
    kind: 'sqlite',
    async writeRollups(run, rollups) {
      writeAll(run, rollups);
    },
    async readRollups(fromHour, toHour) {
      return select.all(fromHour, toHour).flatMap((row) => {
        const parsed = hourlyRollupSchema.safeParse(JSON.parse(row.data));
        return parsed.success ? [parsed.data as HourlyRollup] : [];
      });
    },
    async saveRecent(owner, connections, savedAt) {
      saveRecent.run(owner, savedAt, JSON.stringify(connections));
    },
    async loadRecent(owner) {
      const row = loadRecent.get(owner);
      if (!row) return undefined;
      const parsed = recentSchema.safeParse(JSON.parse(row.data));
      return parsed.success
        ? { connections: parsed.data as SharedConnection[], savedAt: row.saved_at }
        : undefined;
    },
    async firstDenial(client, item, at) {
      return denial.run(client, item, at).changes === 1;
    },
    async prune(beforeHour) {
      prune.run(beforeHour);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
