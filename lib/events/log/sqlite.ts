import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { DeliveredEvent, EventType, IncomingEvent, StoredEvent } from '../event.js';
import { parseSqliteCursor, sqliteCursor } from './cursor.js';
import { dataFileGuard } from './data-dir.js';
import { EventLogOpenError, EventLogUnavailableError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { openSqliteFile } from './sqlite-file.js';
import { WalFlush } from './wal-flush.js';
import { decodeChannels, decodeEvent, deliveredEvent, encodeChannels, encodeEvent } from './stored-event.js';
import type { ClaimedEvent, DeadLetter, DeliveryOutcome, EventLog, EventLogStats } from './types.js';

export interface SqliteEventLogOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  /**
   * How hard each commit is flushed to disk (WAL mode either way).
   * - `full`: a returned `append` survives a process crash and an OS crash or power loss (the WAL
   *   is flushed to disk before it returns, off the event loop: wal-flush.ts).
   * - `normal`: survives a process crash (SIGKILL included); an OS crash or power loss may lose
   *   the last commits before the WAL was checkpointed, never corrupt the file. Faster.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another connection's lock before failing, in ms. @default 5000 */
  busyTimeoutMs?: number;
  logger: Logger;
}

/** Bumped when the tables change, so an old file is refused with a clear message, not misread. */
const SCHEMA_VERSION = 1;

/*
 * One inbox row per event ever appended (until pruned): `pending` while it waits or is being
 * processed, `dead` when dead-lettered, `delivered` once moved to the delivery log, where the row
 * stays without its body as the dedupe record until the delivered event is pruned.
 * An event is due when `coalesce(claim_expires_ms, retry_at_ms)` has passed: a claim pushes the
 * due time to its expiry, a failure with a retry time clears the claim. `dead_order` numbers the
 * dead letters in the order they failed (timestamps tie within a millisecond).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS inbox (
  id               TEXT PRIMARY KEY,
  dedupe_key       TEXT NOT NULL UNIQUE,
  type             TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dead', 'delivered')),
  body             TEXT,
  pending_since_ms INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  retry_at_ms      INTEGER NOT NULL,
  claim_owner      TEXT,
  claim_expires_ms INTEGER,
  failure_reason   TEXT,
  failed_at        TEXT,
  dead_order       INTEGER
);
CREATE INDEX IF NOT EXISTS inbox_due ON inbox (coalesce(claim_expires_ms, retry_at_ms)) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS inbox_dead ON inbox (dead_order) WHERE status = 'dead';
CREATE TABLE IF NOT EXISTS delivery (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id     TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  body         TEXT NOT NULL,
  channels     TEXT NOT NULL,
  processed_at TEXT NOT NULL,
  processed_ms INTEGER NOT NULL
);
`;

interface InboxRow {
  status: 'pending' | 'dead' | 'delivered';
  body: string | null;
  type: string;
}
interface ClaimRow {
  id: string;
  body: string;
  attempts: number;
}
interface DeliveryRow {
  seq: number;
  event_id: string;
  body: string;
  channels: string;
  processed_at: string;
}
interface DeadRow {
  id: string;
  body: string;
  failure_reason: string;
  attempts: number;
  failed_at: string;
}
type AppendResult = { stored: StoredEvent[]; duplicates: number };
type CompleteInput = { id: string; outcome: DeliveryOutcome };

/**
 * The embedded event log: one SQLite file (better-sqlite3, WAL), for a single gateway process.
 * Appends (and completions) from one turn of the event loop share a transaction (see
 * GroupCommit); `watch` only hears completions made through this instance.
 */
export function openSqliteEventLog(options: SqliteEventLogOptions): EventLog {
  const inMemory = options.file === ':memory:';
  const fullSync = options.synchronous !== 'normal';
  const db = openSqliteFile({
    file: options.file,
    // `full` without flushing in COMMIT: each write waits for WalFlush instead (wal-flush.ts).
    synchronous: 'normal',
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    role: 'the event log',
    check(opened) {
      const version = opened.pragma('user_version', { simple: true });
      if (version !== 0 && version !== SCHEMA_VERSION) {
        throw new EventLogOpenError(
          'data-dir',
          `${options.file} holds event log schema version ${String(version)}; this build reads version ${SCHEMA_VERSION}.`,
        );
      }
    },
  });
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  // The embedded log belongs to one process: claims found at open were held by a process that
  // died (a crash, a kill -9), so their events are due now rather than when the claims expire.
  // Were a second process sharing the file by mistake, a released claim could be processed twice,
  // and `complete` would still deliver it once.
  db.prepare(
    `UPDATE inbox SET claim_owner = NULL, claim_expires_ms = NULL WHERE status = 'pending' AND claim_expires_ms IS NOT NULL`,
  ).run();
  // Written above, so the WAL file is there to be flushed.
  const walFlush = fullSync && !inMemory ? new WalFlush(`${options.file}-wal`) : undefined;
  /** Resolves once every commit made so far is on disk (at once for `normal`). */
  const durable = (): Promise<void> => walFlush?.flush() ?? Promise.resolve();

  // SQLite keeps writing through its open files after the directory turned read-only or was
  // moved away; every write checks first, so nothing is acknowledged that a restart would not find.
  const guard = inMemory ? () => undefined : dataFileGuard(options.file);
  let unavailable: string | undefined;
  function writable(): void {
    const problem = guard();
    if (problem !== unavailable) {
      if (problem)
        options.logger.error(
          { problem },
          'the event log cannot be written: webhooks are answered 503 and processing waits until it can',
        );
      else options.logger.info('the event log can be written again');
      unavailable = problem;
    }
    if (problem) throw new EventLogUnavailableError(`The event log cannot be written: ${problem}.`);
  }

  const sql = {
    insert: db.prepare<[string, string, string, string, number, number]>(
      `INSERT INTO inbox (id, dedupe_key, type, body, pending_since_ms, retry_at_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (dedupe_key) DO NOTHING`,
    ),
    due: db.prepare<[number, number], ClaimRow>(
      `SELECT id, body, attempts FROM inbox
       WHERE status = 'pending' AND coalesce(claim_expires_ms, retry_at_ms) <= ?
       ORDER BY coalesce(claim_expires_ms, retry_at_ms) LIMIT ?`,
    ),
    markClaimed: db.prepare<[string, number, string]>(
      `UPDATE inbox SET claim_owner = ?, claim_expires_ms = ?, attempts = attempts + 1 WHERE id = ?`,
    ),
    inboxRow: db.prepare<[string], InboxRow>(`SELECT status, body, type FROM inbox WHERE id = ?`),
    deliver: db.prepare<[string, string, string, string, string, number]>(
      `INSERT INTO delivery (event_id, type, body, channels, processed_at, processed_ms) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    markDelivered: db.prepare<[string]>(
      `UPDATE inbox SET status = 'delivered', body = NULL, claim_owner = NULL, claim_expires_ms = NULL
       WHERE id = ?`,
    ),
    deliveryOf: db.prepare<[string], DeliveryRow>(
      `SELECT seq, event_id, body, channels, processed_at FROM delivery WHERE event_id = ?`,
    ),
    retryAt: db.prepare<[number, string]>(
      `UPDATE inbox SET retry_at_ms = ?, claim_owner = NULL, claim_expires_ms = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deadLetter: db.prepare<[string, string, string]>(
      `UPDATE inbox SET status = 'dead', failure_reason = ?, failed_at = ?,
         dead_order = (SELECT coalesce(max(dead_order), 0) + 1 FROM inbox WHERE status = 'dead'),
         claim_owner = NULL, claim_expires_ms = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deadLetters: db.prepare<[number], DeadRow>(
      `SELECT id, body, failure_reason, attempts, failed_at FROM inbox
       WHERE status = 'dead' ORDER BY dead_order LIMIT ?`,
    ),
    replayAll: db.prepare<[number, number]>(
      `UPDATE inbox SET status = 'pending', attempts = 0, pending_since_ms = ?, retry_at_ms = ?,
         failure_reason = NULL, failed_at = NULL, dead_order = NULL
       WHERE status = 'dead'`,
    ),
    replaySome: db.prepare<[number, number, string]>(
      `UPDATE inbox SET status = 'pending', attempts = 0, pending_since_ms = ?, retry_at_ms = ?,
         failure_reason = NULL, failed_at = NULL, dead_order = NULL
       WHERE status = 'dead' AND id IN (SELECT value FROM json_each(?))`,
    ),
    read: db.prepare<[number, number], DeliveryRow>(
      `SELECT seq, event_id, body, channels, processed_at FROM delivery WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    readTypes: db.prepare<[number, string, number], DeliveryRow>(
      `SELECT seq, event_id, body, channels, processed_at FROM delivery
       WHERE seq > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?`,
    ),
    latest: db.prepare<[], { seq: number | null }>(`SELECT max(seq) AS seq FROM delivery`),
    // Rows are in processing order, so "older than" is a prefix: scanning stops at its end.
    firstYoungerThan: db.prepare<[number], { seq: number }>(
      `SELECT seq FROM delivery WHERE processed_ms >= ? ORDER BY seq LIMIT 1`,
    ),
    newestBeyond: db.prepare<[number], { seq: number }>(
      `SELECT seq FROM delivery ORDER BY seq DESC LIMIT 1 OFFSET ?`,
    ),
    pruneDedupe: db.prepare<[number]>(
      `DELETE FROM inbox WHERE status = 'delivered' AND id IN (SELECT event_id FROM delivery WHERE seq <= ?)`,
    ),
    pruneDelivery: db.prepare<[number]>(`DELETE FROM delivery WHERE seq <= ?`),
    pendingStats: db.prepare<[], { pending: number; oldest: number | null }>(
      `SELECT count(*) AS pending, min(pending_since_ms) AS oldest FROM inbox WHERE status = 'pending'`,
    ),
    deliveredCount: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM delivery`),
    deadCount: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM inbox WHERE status = 'dead'`),
  };

  function appendOne(events: readonly IncomingEvent[]): AppendResult {
    const now = Date.now();
    const stored: StoredEvent[] = [];
    for (const event of events) {
      const id = randomUUID();
      const { changes } = sql.insert.run(id, event.dedupeKey, event.type, encodeEvent(event), now, now);
      if (changes === 1) stored.push({ ...event, id });
    }
    return { stored, duplicates: events.length - stored.length };
  }
  const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
  const appendMany = db.transaction((batches: (readonly IncomingEvent[])[]) => batches.map(appendOne));
  const appendSingle = db.transaction(appendOne);
  const appends = new GroupCommit<readonly IncomingEvent[], AppendResult>(
    (batches) => appendMany.immediate(batches),
    (batch) => appendSingle.immediate(batch),
    (error, size) =>
      options.logger.warn(
        { err: { message: asError(error).message }, appends: size },
        'grouped event log append failed; retrying each append on its own',
      ),
  );

  const claimTx = db.transaction((processor: string, max: number, visibilityMs: number): ClaimedEvent[] => {
    const now = Date.now();
    const rows = sql.due.all(now, max);
    for (const row of rows) sql.markClaimed.run(processor, now + visibilityMs, row.id);
    return rows.map((row) => ({ ...decodeEvent(row.body), id: row.id, attempts: row.attempts }));
  });

  const completeTx = db.transaction((id: string, outcome: DeliveryOutcome): DeliveredEvent => {
    const { channels } = outcome;
    const row = sql.inboxRow.get(id);
    if (!row) throw new Error(`Event ${id} is not in the event log.`);
    if (row.status === 'dead')
      throw new Error(`Event ${id} is dead-lettered; replay it before completing it.`);
    if (row.status === 'delivered') {
      // A processor whose claim expired finishing after another one did: same answer, one delivery.
      const delivered = sql.deliveryOf.get(id);
      if (!delivered) throw new Error(`Event ${id} was delivered and has since been pruned.`);
      return fromDeliveryRow(delivered);
    }
    const stored = row.body ?? '';
    const body =
      outcome.customer === undefined
        ? stored
        : JSON.stringify({ ...decodeEvent(stored), customer: outcome.customer });
    const processedMs = Date.now();
    const processedAt = new Date(processedMs).toISOString();
    const encoded = encodeChannels(channels);
    const { lastInsertRowid } = sql.deliver.run(id, row.type, body, encoded, processedAt, processedMs);
    sql.markDelivered.run(id);
    return deliveredEvent(id, body, {
      cursor: sqliteCursor(Number(lastInsertRowid)),
      channels: [...channels],
      processedAt,
    });
  });

  // Completions from one turn (a processor finishing a claimed batch concurrently) share a
  // transaction too. Each runs in its own savepoint (a nested better-sqlite3 transaction), so one
  // that throws (unknown or dead-lettered event) is rolled back alone and answered with its error.
  const completeEach = (items: CompleteInput[]): (DeliveredEvent | Error)[] =>
    items.map((item) => {
      try {
        return completeTx(item.id, item.outcome);
      } catch (error) {
        return asError(error);
      }
    });
  const completeMany = db.transaction(completeEach);
  const completes = new GroupCommit<CompleteInput, DeliveredEvent | Error>(
    (items) => completeMany.immediate(items),
    (item) => completeMany.immediate([item])[0] ?? new Error(`Event ${item.id} was not completed.`),
    (error, size) =>
      options.logger.warn(
        { err: { message: asError(error).message }, completions: size },
        'grouped event log completion failed; retrying each completion on its own',
      ),
  );

  const failTx = db.transaction((id: string, reason: string, retryAt: Date | null): void => {
    const { changes } =
      retryAt === null
        ? sql.deadLetter.run(reason, new Date().toISOString(), id)
        : sql.retryAt.run(retryAt.getTime(), id);
    // Not pending any more (delivered or dead-lettered by a processor that reclaimed it): nothing to do.
    if (changes === 0 && !sql.inboxRow.get(id)) throw new Error(`Event ${id} is not in the event log.`);
  });

  const replayTx = db.transaction((ids: readonly string[] | undefined): number => {
    const now = Date.now();
    const { changes } =
      ids === undefined ? sql.replayAll.run(now, now) : sql.replaySome.run(now, now, JSON.stringify(ids));
    return changes;
  });

  const pruneTx = db.transaction((maxAgeMs: number, maxEvents: number): number => {
    const latest = sql.latest.get()?.seq;
    if (latest === null || latest === undefined) return 0;
    const younger = sql.firstYoungerThan.get(Date.now() - maxAgeMs);
    const byAge = younger ? younger.seq - 1 : latest;
    const byCount = sql.newestBeyond.get(maxEvents)?.seq ?? 0;
    const cut = Math.max(byAge, byCount);
    if (cut <= 0) return 0;
    sql.pruneDedupe.run(cut);
    return sql.pruneDelivery.run(cut).changes;
  });

  function fromDeliveryRow(row: DeliveryRow): DeliveredEvent {
    return deliveredEvent(row.event_id, row.body, {
      cursor: sqliteCursor(row.seq),
      channels: decodeChannels(row.channels),
      processedAt: row.processed_at,
    });
  }

  const watchers = new Set<() => void>();
  let notifyScheduled = false;
  function notifyWatchers(): void {
    if (notifyScheduled || watchers.size === 0) return;
    notifyScheduled = true;
    // One call per turn for a burst of completions: it is a hint to read, not one per event.
    setImmediate(() => {
      notifyScheduled = false;
      for (const watcher of watchers) {
        try {
          watcher();
        } catch (error) {
          options.logger.error({ err: { message: (error as Error).message } }, 'event log watcher threw');
        }
      }
    });
  }

  return {
    kind: 'sqlite',
    async append(events) {
      if (events.length === 0) return { stored: [], duplicates: 0 };
      writable();
      const appended = await appends.submit(events);
      await durable();
      return appended;
    },
    async claim(processor, max, visibilityMs) {
      // A claim need not survive a power loss (lost, the event is simply due again), so it waits
      // for no flush; the next write's flush covers it.
      writable();
      return claimTx.immediate(processor, max, visibilityMs);
    },
    async complete(id, outcome) {
      writable();
      const delivered = await completes.submit({ id, outcome });
      if (delivered instanceof Error) throw delivered;
      await durable();
      notifyWatchers();
      return delivered;
    },
    async fail(id, failure) {
      writable();
      failTx.immediate(id, failure.reason, failure.retryAt);
      await durable();
    },
    async deadLetters(limit): Promise<DeadLetter[]> {
      return sql.deadLetters.all(limit).map((row) => ({
        ...decodeEvent(row.body),
        id: row.id,
        reason: row.failure_reason,
        attempts: row.attempts,
        failedAt: row.failed_at,
      }));
    },
    async replay(ids) {
      writable();
      const replayed = replayTx.immediate(ids);
      await durable();
      return replayed;
    },
    async read(after, limit, filter) {
      const from = after === undefined ? 0 : parseSqliteCursor(after);
      const types: readonly EventType[] | undefined = filter?.types;
      const rows =
        types === undefined
          ? sql.read.all(from, limit)
          : types.length === 0
            ? []
            : sql.readTypes.all(from, JSON.stringify(types), limit);
      return rows.map(fromDeliveryRow);
    },
    async latestCursor() {
      const seq = sql.latest.get()?.seq;
      return seq === null || seq === undefined ? undefined : sqliteCursor(seq);
    },
    watch(onDelivered) {
      watchers.add(onDelivered);
      return () => watchers.delete(onDelivered);
    },
    async prune(retention) {
      writable();
      return pruneTx.immediate(retention.maxAgeMs, retention.maxEvents);
    },
    async stats(): Promise<EventLogStats> {
      const pending = sql.pendingStats.get();
      return {
        pending: pending?.pending ?? 0,
        oldestPendingMs:
          pending?.oldest === null || pending?.oldest === undefined
            ? 0
            : Math.max(0, Date.now() - pending.oldest),
        delivered: sql.deliveredCount.get()?.n ?? 0,
        deadLetters: sql.deadCount.get()?.n ?? 0,
      };
    },
    async close() {
      appends.drain();
      completes.drain();
      watchers.clear();
      await walFlush?.close();
      if (db.open) db.close();
    },
  };
}
