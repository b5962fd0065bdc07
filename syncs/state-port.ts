import type { SyncRecord } from '../platforms/kit/sync.js';
import type { PendingRow, RowStatus, RunCounts, RunRecord, RunRow, RunStatus, Change } from './state.js';

/**
 * What the engine needs of the syncs' state, whichever store holds it: SQLite in one process
 * (`SyncStateStore`, the embedded default) or Redis when worker processes share the syncs
 * (`RedisSyncState`). Each call may answer at once or later, so the engine awaits every one.
 * Writes that must land together (a page's staging; a batch's acknowledged records and the
 * checkpoint after them) are one call each, which the store makes atomic its own way.
 */

type Awaitable<T> = T | Promise<T>;

/** One step of staging a page, applied in order. */
export type StagingOp =
  { kind: 'see'; key: string } | { kind: 'stage'; row: PendingRow } | { kind: 'row'; row: RunRow };

/** What the destination made of one batch. */
export interface BatchOutcome {
  saved: { key: string; fingerprint: string; record: SyncRecord }[];
  removed: string[];
  /** Updates refused: sent again next run. */
  unsent: string[];
  /** Rows refused, with why. */
  rows: RunRow[];
  checkpoint: number;
  counts: RunCounts;
}

export interface SyncState {
  unfinishedRun(sync: string): Awaitable<RunRecord | undefined>;
  createRun(sync: string, trigger: string, full: boolean, at: number): Awaitable<RunRecord>;
  run(id: number): Awaitable<RunRecord | undefined>;
  runs(options: { sync?: string; limit: number }): Awaitable<RunRecord[]>;
  updateRun(
    id: number,
    changes: { counts?: RunCounts; staged?: boolean; checkpoint?: number; resumes?: number },
  ): Awaitable<void>;
  finishRun(id: number, status: RunStatus, counts: RunCounts, at: number, error?: string): Awaitable<void>;
  /** A dry run leaves nothing behind. */
  discardRun(id: number): Awaitable<void>;
  /** Forgets a half-staged run's staging, to stage again. */
  clearStaging(id: number): Awaitable<void>;
  /** Of `keys`, those the run has already seen, and the fingerprints acknowledged for them. */
  lookup(
    sync: string,
    run: number,
    keys: readonly string[],
  ): Awaitable<{ seen: string[]; fingerprints: Map<string, string> }>;
  applyStaging(run: number, ops: readonly StagingOp[]): Awaitable<void>;
  /** Records acknowledged earlier whose key the run did not see (a mirror's removals). */
  departed(
    sync: string,
    run: number,
  ): AsyncIterable<{ key: string; record: SyncRecord }> | Iterable<{ key: string; record: SyncRecord }>;
  /** Pending rows after `afterSeq`, at most `limit`, in order. */
  pending(run: number, afterSeq: number, limit: number): Awaitable<PendingRow[]>;
  samples(run: number, change: Change, limit: number): Awaitable<PendingRow[]>;
  runRows(run: number, status: RowStatus | undefined, limit: number): Awaitable<RunRow[]>;
  /** Records the batch's outcome and moves the checkpoint after it, atomically. */
  commitBatch(sync: string, run: number, outcome: BatchOutcome, at: number): Awaitable<void>;
  countRecords(sync: string): Awaitable<number>;
  close(): Awaitable<void>;
}
