import type Database from 'better-sqlite3';
import { openSqliteFile } from '../../lib/events/log/sqlite-file.js';
import type { ActionEvent } from '../../platforms/kit/actions.js';
import type { ActionOutbox, ActionRecord, ActionStatus, DueGroup, NewAction, Settlement } from './outbox.js';

/**
 * The embedded action outbox: a table in the event log's SQLite file (its own connection, as the
 * webhook deliveries have), so an action is as durable as the event that caused it. It belongs to
 * one process, like the embedded log.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS action_outbox (
  key        TEXT PRIMARY KEY,
  rule       TEXT NOT NULL,
  platform   TEXT NOT NULL,
  type       TEXT NOT NULL,
  params     TEXT NOT NULL,
  event      TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'done', 'failed')),
  attempts   INTEGER NOT NULL DEFAULT 0,
  due_at     INTEGER NOT NULL,
  code       TEXT,
  reason     TEXT,
  detail     TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS action_outbox_due ON action_outbox (status, platform, type, due_at);
`;

interface Row {
  key: string;
  rule: string;
  platform: string;
  type: string;
  params: string;
  event: string;
  status: ActionStatus;
  attempts: number;
  due_at: number;
  code: string | null;
  reason: string | null;
  detail: string | null;
  created_at: number;
  updated_at: number;
}

const recordOf = (row: Row): ActionRecord => ({
  key: row.key,
  rule: row.rule,
  platform: row.platform,
  type: row.type,
  params: JSON.parse(row.params) as Record<string, unknown>,
  event: JSON.parse(row.event) as ActionEvent,
  status: row.status,
  attempts: row.attempts,
  dueAt: row.due_at,
  code: row.code,
  reason: row.reason,
  detail: row.detail,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface SqliteActionOutboxOptions {
  /** The event log's file (`DATA_DIR/events.db`), or `:memory:` in tests. */
  file: string;
  /** @default 'full': an accepted action survives a power cut, like the event that caused it */
  synchronous?: 'full' | 'normal';
  /** @default 5000 */
  busyTimeoutMs?: number;
  /** The clock `enqueue` dates rows with. @default Date.now */
  now?: () => number;
}

export function openSqliteActionOutbox(options: SqliteActionOutboxOptions): ActionOutbox {
  const now = options.now ?? Date.now;
  const db: Database.Database = openSqliteFile({
    file: options.file,
    synchronous: options.synchronous ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    role: 'the action outbox',
    check: (opened) => opened.exec(SCHEMA),
  });

  const insert = db.prepare(
    `INSERT INTO action_outbox (key, rule, platform, type, params, event, status, attempts, due_at, created_at, updated_at)
     VALUES (@key, @rule, @platform, @type, @params, @event, 'pending', 0, @now, @now, @now)
     ON CONFLICT (key) DO NOTHING`,
  );
  const enqueueAll = db.transaction((actions: readonly NewAction[], at: number) => {
    let added = 0;
    for (const action of actions)
      added += insert.run({
        key: action.key,
        rule: action.rule,
        platform: action.platform,
        type: action.type,
        params: JSON.stringify(action.params),
        event: JSON.stringify(action.event),
        now: at,
      }).changes;
    return added;
  });
  const dueGroups = db.prepare<
    [number],
    { platform: string; type: string; count: number; oldest: number; newest: number }
  >(
    `SELECT platform, type, COUNT(*) AS count, MIN(due_at) AS oldest, MAX(due_at) AS newest FROM action_outbox
     WHERE status = 'pending' AND due_at <= ? GROUP BY platform, type`,
  );
  const nextDue = db.prepare<[], { next: number | null }>(
    `SELECT MIN(due_at) AS next FROM action_outbox WHERE status = 'pending'`,
  );
  const selectDue = db.prepare<[string, string, number, number], Row>(
    `SELECT * FROM action_outbox WHERE status = 'pending' AND platform = ? AND type = ? AND due_at <= ?
     ORDER BY due_at, rowid LIMIT ?`,
  );
  const markSending = db.prepare<[number, string]>(
    `UPDATE action_outbox SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE key = ?`,
  );
  const claimAll = db.transaction((platform: string, type: string, limit: number, at: number) => {
    const rows = selectDue.all(platform, type, at, limit);
    for (const row of rows) markSending.run(at, row.key);
    return rows.map((row) => recordOf({ ...row, status: 'sending', attempts: row.attempts + 1 }));
  });
  const settleOne = db.prepare(
    `UPDATE action_outbox SET status = @status, code = @code, reason = @reason, detail = @detail,
       due_at = COALESCE(@dueAt, due_at), updated_at = @now
     WHERE key = @key AND status = 'sending'`,
  );
  const settleAll = db.transaction((settlements: readonly Settlement[], at: number) => {
    for (const s of settlements)
      settleOne.run({
        key: s.key,
        status: s.status,
        code: s.status === 'done' ? null : s.code,
        reason: s.status === 'done' ? null : s.reason,
        detail: s.status === 'done' ? (s.detail ?? null) : null,
        dueAt: s.status === 'pending' ? s.dueAt : null,
        now: at,
      });
  });
  const sendingRows = db.prepare<[], Row>(`SELECT * FROM action_outbox WHERE status = 'sending'`);
  const requeue = db.prepare<[number, number, string]>(
    `UPDATE action_outbox SET status = 'pending', due_at = ?, updated_at = ? WHERE key = ?`,
  );
  const unknownOutcome = db.prepare<[number, string]>(
    `UPDATE action_outbox SET status = 'failed', code = 'ACTION_OUTCOME_UNKNOWN',
       reason = 'the process stopped while the call was under way; it may have been applied and is not sent again',
       updated_at = ? WHERE key = ?`,
  );
  const recoverAll = db.transaction((idempotent: (platform: string, type: string) => boolean, at: number) => {
    let requeued = 0;
    const unknown: ActionRecord[] = [];
    for (const row of sendingRows.all()) {
      if (idempotent(row.platform, row.type)) {
        requeue.run(at, at, row.key);
        requeued += 1;
      } else {
        unknownOutcome.run(at, row.key);
        unknown.push(recordOf({ ...row, status: 'failed' }));
      }
    }
    return { requeued, unknown };
  });
  const byKey = db.prepare<[string], Row>(`SELECT * FROM action_outbox WHERE key = ?`);
  const listAll = db.prepare<[number], Row>(`SELECT * FROM action_outbox ORDER BY rowid LIMIT ?`);
  const listByStatus = db.prepare<[string, number], Row>(
    `SELECT * FROM action_outbox WHERE status = ? ORDER BY rowid LIMIT ?`,
  );
  const pruneSettled = db.prepare<[number]>(
    `DELETE FROM action_outbox WHERE status IN ('done', 'failed') AND updated_at < ?`,
  );

  return {
    enqueue: (actions) => Promise.resolve(actions.length === 0 ? 0 : enqueueAll(actions, now())),
    due: (at) =>
      Promise.resolve(
        dueGroups.all(at).map((g): DueGroup => ({
          platform: g.platform,
          type: g.type,
          count: g.count,
          oldestDueAt: g.oldest,
          newestDueAt: g.newest,
        })),
      ),
    nextDueAt: () => Promise.resolve(nextDue.get()?.next ?? null),
    claim: (platform, type, limit, at) => Promise.resolve(claimAll(platform, type, limit, at)),
    settle: (settlements) => Promise.resolve(settleAll(settlements, now())),
    recover: (idempotent, at) => Promise.resolve(recoverAll(idempotent, at)),
    get: (key) => {
      const row = byKey.get(key);
      return Promise.resolve(row ? recordOf(row) : undefined);
    },
    list: (filter = {}) => {
      const limit = filter.limit ?? 1_000;
      const rows = filter.status ? listByStatus.all(filter.status, limit) : listAll.all(limit);
      return Promise.resolve(rows.map(recordOf));
    },
    prune: (before) => Promise.resolve(pruneSettled.run(before).changes),
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  };
}
