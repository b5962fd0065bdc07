import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SyncRecord } from '../platforms/kit/sync.js';
import type { BatchOutcome, StagingOp, SyncState } from './state-port.js';

/**
 * Everything a sync remembers, in one SQLite file beside the event log (`DATA_DIR/syncs.db`):
 * - `sync_records`: per sync and key, the fingerprint and record last acknowledged by the
 *   destination: what makes runs incremental, and what a mirror removes (never held in memory);
 * - `sync_runs`: the run history with counts, and each run's checkpoint;
 * - `sync_pending`: a run's staged writes, in the order they are sent (the checkpoint is the last
 *   one the destination acknowledged), so a killed run resumes without resending;
 * - `sync_run_keys`: the keys a run saw (duplicates, and what a mirror removes);
 * - `sync_run_rows`: rows quarantined (failed a rule) or rejected by the destination, with why.
 */

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'PARTIALLY_FAILED' | 'FAILED' | 'CANCELLED';
export type RowStatus = 'QUARANTINED' | 'FAILED';
export type Change = 'insert' | 'update' | 'remove';

export interface RunCounts {
  sourceRows: number;
  sourceCalls: number;
  inserts: number;
  updates: number;
  removals: number;
  unchanged: number;
  quarantined: number;
  written: number;
  rejected: number;
  calls: number;
}

export const ZERO_COUNTS: RunCounts = {
  sourceRows: 0,
  sourceCalls: 0,
  inserts: 0,
  updates: 0,
  removals: 0,
  unchanged: 0,
  quarantined: 0,
  written: 0,
  rejected: 0,
  calls: 0,
};

export interface RunRecord extends RunCounts {
  id: number;
  sync: string;
  status: RunStatus;
  trigger: string;
  full: boolean;
  startedAt: number;
  finishedAt: number | undefined;
  staged: boolean;
  /** Pending rows acknowledged, in order: a resumed run starts after them. */
  checkpoint: number;
  resumes: number;
  error: string | undefined;
}

export interface RunRow {
  run: number;
  key: string;
  status: RowStatus;
  code: string;
  reason: string;
  record: SyncRecord | undefined;
}

export interface PendingRow {
  seq: number;
  change: Change;
  key: string;
  record: SyncRecord;
  fingerprint: string;
}

interface RunRowDb {
  id: number;
  sync: string;
  status: RunStatus;
  trigger: string;
  full: number;
  started_at: number;
  finished_at: number | null;
  staged: number;
  checkpoint: number;
  resumes: number;
  error: string | null;
  counts: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sync_records (
  sync TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, record TEXT NOT NULL, sent_at INTEGER NOT NULL,
  PRIMARY KEY (sync, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_runs (
  id INTEGER PRIMARY KEY, sync TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL,
  full INTEGER NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER, staged INTEGER NOT NULL DEFAULT 0,
  checkpoint INTEGER NOT NULL DEFAULT 0, resumes INTEGER NOT NULL DEFAULT 0, error TEXT, counts TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sync_runs_by_sync ON sync_runs (sync, id);
CREATE TABLE IF NOT EXISTS sync_pending (
  run INTEGER NOT NULL, seq INTEGER NOT NULL, change TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL,
  fingerprint TEXT NOT NULL, PRIMARY KEY (run, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_run_keys (run INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (run, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_run_rows (
  run INTEGER NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, record TEXT);
CREATE INDEX IF NOT EXISTS sync_run_rows_by_run ON sync_run_rows (run, status);
`;

function toRun(row: RunRowDb): RunRecord {
  return {
    ...ZERO_COUNTS,
    ...(JSON.parse(row.counts) as Partial<RunCounts>),
    id: row.id,
    sync: row.sync,
    status: row.status,
    trigger: row.trigger,
    full: row.full === 1,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    staged: row.staged === 1,
    checkpoint: row.checkpoint,
    resumes: row.resumes,
    error: row.error ?? undefined,
  };
}

export class SyncStateStore implements SyncState {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 5_000 });
    this.db.pragma('journal_mode = WAL');
    // A checkpoint must survive the process being killed the moment after it is written.
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // ── records last acknowledged ────────────────────────────────────────────────────────────
  fingerprintOf(sync: string, key: string): string | undefined {
    const row = this.db
      .prepare<[string, string], { fingerprint: string }>(
        'SELECT fingerprint FROM sync_records WHERE sync = ? AND key = ?',
      )
      .get(sync, key);
    return row?.fingerprint;
  }

  saveRecord(sync: string, key: string, fingerprint: string, record: SyncRecord, at: number): void {
    this.db
      .prepare(
        'INSERT INTO sync_records (sync, key, fingerprint, record, sent_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sync, key) DO UPDATE SET fingerprint = excluded.fingerprint, record = excluded.record, sent_at = excluded.sent_at',
      )
      .run(sync, key, fingerprint, JSON.stringify(record), at);
  }

  /** Keeps the record but forgets its fingerprint: the next run sends it again. */
  markUnsent(sync: string, key: string): void {
    this.db.prepare("UPDATE sync_records SET fingerprint = '' WHERE sync = ? AND key = ?").run(sync, key);
  }

  deleteRecord(sync: string, key: string): void {
    this.db.prepare('DELETE FROM sync_records WHERE sync = ? AND key = ?').run(sync, key);
  }

  countRecords(sync: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM sync_records WHERE sync = ?')
        .get(sync)?.n ?? 0
    );
  }

  /** Records acknowledged earlier whose key the run did not see, a page at a time (mirror removals). */
  *departed(sync: string, run: number): Generator<{ key: string; record: SyncRecord }> {
    const statement = this.db.prepare<[string, number, string], { key: string; record: string }>(
      'SELECT key, record FROM sync_records r WHERE sync = ? AND NOT EXISTS (SELECT 1 FROM sync_run_keys k WHERE k.run = ? AND k.key = r.key) AND key > ? ORDER BY key LIMIT 1000',
    );
    let after = '';
    for (;;) {
      const page = statement.all(sync, run, after);
      for (const row of page) yield { key: row.key, record: JSON.parse(row.record) as SyncRecord };
      if (page.length < 1000) return;
      after = page[page.length - 1]?.key ?? after;
    }
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────
  createRun(sync: string, trigger: string, full: boolean, at: number): RunRecord {
    const info = this.db
      .prepare(
        "INSERT INTO sync_runs (sync, status, trigger, full, started_at, counts) VALUES (?, 'RUNNING', ?, ?, ?, ?)",
      )
      .run(sync, trigger, full ? 1 : 0, at, JSON.stringify(ZERO_COUNTS));
    return this.run(Number(info.lastInsertRowid)) as RunRecord;
  }

  run(id: number): RunRecord | undefined {
    const row = this.db.prepare<[number], RunRowDb>('SELECT * FROM sync_runs WHERE id = ?').get(id);
    return row ? toRun(row) : undefined;
  }

  /** The run a killed process left running, to resume. */
  unfinishedRun(sync: string): RunRecord | undefined {
    const row = this.db
      .prepare<[string], RunRowDb>(
        "SELECT * FROM sync_runs WHERE sync = ? AND status = 'RUNNING' ORDER BY id DESC LIMIT 1",
      )
      .get(sync);
    return row ? toRun(row) : undefined;
  }

  runs(options: { sync?: string; limit: number }): RunRecord[] {
    const rows = options.sync
      ? this.db
          .prepare<[string, number], RunRowDb>(
            'SELECT * FROM sync_runs WHERE sync = ? ORDER BY id DESC LIMIT ?',
          )
          .all(options.sync, options.limit)
      : this.db
          .prepare<[number], RunRowDb>('SELECT * FROM sync_runs ORDER BY id DESC LIMIT ?')
          .all(options.limit);
    return rows.map(toRun);
  }

  lastRun(sync: string): RunRecord | undefined {
    return this.runs({ sync, limit: 1 })[0];
  }

  updateRun(
    id: number,
    changes: { counts?: RunCounts; staged?: boolean; checkpoint?: number; resumes?: number },
  ): void {
    if (changes.counts)
      this.db.prepare('UPDATE sync_runs SET counts = ? WHERE id = ?').run(JSON.stringify(changes.counts), id);
    if (changes.staged !== undefined)
      this.db.prepare('UPDATE sync_runs SET staged = ? WHERE id = ?').run(changes.staged ? 1 : 0, id);
    if (changes.checkpoint !== undefined)
      this.db.prepare('UPDATE sync_runs SET checkpoint = ? WHERE id = ?').run(changes.checkpoint, id);
    if (changes.resumes !== undefined)
      this.db.prepare('UPDATE sync_runs SET resumes = ? WHERE id = ?').run(changes.resumes, id);
  }

  finishRun(id: number, status: RunStatus, counts: RunCounts, at: number, error?: string): void {
    this.db
      .prepare('UPDATE sync_runs SET status = ?, counts = ?, finished_at = ?, error = ? WHERE id = ?')
      .run(status, JSON.stringify(counts), at, error ?? null, id);
    // What only the run itself needed; the history and its rows stay.
    this.db.prepare('DELETE FROM sync_pending WHERE run = ?').run(id);
    this.db.prepare('DELETE FROM sync_run_keys WHERE run = ?').run(id);
  }

  /** A dry run leaves nothing behind. */
  discardRun(id: number): void {
    for (const table of ['sync_pending', 'sync_run_keys', 'sync_run_rows'])
      this.db.prepare(`DELETE FROM ${table} WHERE run = ?`).run(id);
    this.db.prepare('DELETE FROM sync_runs WHERE id = ?').run(id);
  }

  /** Forgets a half-staged run's staging, to stage again. */
  clearStaging(id: number): void {
    this.db.prepare('DELETE FROM sync_pending WHERE run = ?').run(id);
    this.db.prepare('DELETE FROM sync_run_keys WHERE run = ?').run(id);
    this.db.prepare("DELETE FROM sync_run_rows WHERE run = ? AND status = 'QUARANTINED'").run(id);
  }

  // ── a run's staging ──────────────────────────────────────────────────────────────────────
  /** Records the key as seen by the run; false when it already was (a duplicate). */
  see(run: number, key: string): boolean {
    return (
      this.db.prepare('INSERT OR IGNORE INTO sync_run_keys (run, key) VALUES (?, ?)').run(run, key)
        .changes === 1
    );
  }

  stage(run: number, seq: number, row: Omit<PendingRow, 'seq'>): void {
    this.db
      .prepare(
        'INSERT INTO sync_pending (run, seq, change, key, record, fingerprint) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(run, seq, row.change, row.key, JSON.stringify(row.record), row.fingerprint);
  }

  /** Pending rows after `afterSeq`, at most `limit`, in order. */
  pending(run: number, afterSeq: number, limit: number): PendingRow[] {
    return this.db
      .prepare<
        [number, number, number],
        { seq: number; change: Change; key: string; record: string; fingerprint: string }
      >(
        'SELECT seq, change, key, record, fingerprint FROM sync_pending WHERE run = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(run, afterSeq, limit)
      .map((row) => ({ ...row, record: JSON.parse(row.record) as SyncRecord }));
  }

  samples(run: number, change: Change, limit: number): PendingRow[] {
    return this.db
      .prepare<
        [number, string, number],
        { seq: number; change: Change; key: string; record: string; fingerprint: string }
      >(
        'SELECT seq, change, key, record, fingerprint FROM sync_pending WHERE run = ? AND change = ? ORDER BY seq LIMIT ?',
      )
      .all(run, change, limit)
      .map((row) => ({ ...row, record: JSON.parse(row.record) as SyncRecord }));
  }

  addRunRow(row: RunRow): void {
    this.db
      .prepare('INSERT INTO sync_run_rows (run, key, status, code, reason, record) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        row.run,
        row.key,
        row.status,
        row.code,
        row.reason,
        row.record ? JSON.stringify(row.record) : null,
      );
  }

  runRows(run: number, status: RowStatus | undefined, limit: number): RunRow[] {
    const rows = status
      ? this.db
          .prepare<[number, string, number], Record<string, string | number | null>>(
            'SELECT * FROM sync_run_rows WHERE run = ? AND status = ? ORDER BY rowid LIMIT ?',
          )
          .all(run, status, limit)
      : this.db
          .prepare<[number, number], Record<string, string | number | null>>(
            'SELECT * FROM sync_run_rows WHERE run = ? ORDER BY rowid LIMIT ?',
          )
          .all(run, limit);
    return rows.map((row) => ({
      run: Number(row['run']),
      key: String(row['key']),
      status: row['status'] as RowStatus,
      code: String(row['code']),
      reason: String(row['reason']),
      record: typeof row['record'] === 'string' ? (JSON.parse(row['record']) as SyncRecord) : undefined,
    }));
  }

  // ── the engine's page-level calls (SyncState) ───────────────────────────────────────────
  lookup(
    sync: string,
    run: number,
    keys: readonly string[],
  ): { seen: string[]; fingerprints: Map<string, string> } {
    const seenStatement = this.db.prepare<[number, string], { n: number }>(
      'SELECT 1 AS n FROM sync_run_keys WHERE run = ? AND key = ?',
    );
    const seen: string[] = [];
    const fingerprints = new Map<string, string>();
    for (const key of keys) {
      if (seenStatement.get(run, key)) seen.push(key);
      const print = this.fingerprintOf(sync, key);
      if (print !== undefined) fingerprints.set(key, print);
    }
    return { seen, fingerprints };
  }

  applyStaging(run: number, ops: readonly StagingOp[]): void {
    this.transaction(() => {
      for (const op of ops) {
        if (op.kind === 'see') this.see(run, op.key);
        else if (op.kind === 'stage') this.stage(run, op.row.seq, op.row);
        else this.addRunRow(op.row);
      }
    });
  }

  commitBatch(sync: string, run: number, outcome: BatchOutcome, at: number): void {
    this.transaction(() => {
      for (const saved of outcome.saved)
        this.saveRecord(sync, saved.key, saved.fingerprint, saved.record, at);
      for (const key of outcome.removed) this.deleteRecord(sync, key);
      for (const row of outcome.rows) this.addRunRow(row);
      for (const key of outcome.unsent) this.markUnsent(sync, key);
      this.updateRun(run, { checkpoint: outcome.checkpoint, counts: outcome.counts });
    });
  }

  close(): void {
    this.db.close();
  }
}
