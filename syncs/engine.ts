import type { Logger } from '../lib/logger.js';
import { createRequestContext } from '../lib/request-context.js';
import { recordFacts, recordOutcome, type ConnectionFacts } from '../lib/health/recorder.js';
import type { SyncBatch, SyncRecord, SyncWriter } from '../platforms/kit/sync.js';
import type { SyncTarget } from '../platforms/registry.js';
import type { SyncDefinition } from './definition.js';
import { fingerprint, kept, mapRow } from './mapping.js';
import { readSource, type SourceSettings } from './source.js';
import { ZERO_COUNTS, type Change, type RunCounts, type RunRecord, type RunStatus } from './state.js';
import type { BatchOutcome, StagingOp, SyncState } from './state-port.js';

/**
 * Runs one sync: reads the source a page at a time, checks and maps each row, stages in SQLite
 * only what changed since the destination last acknowledged it (and, for a mirror, what left),
 * then writes the staged rows in batches of the destination's maximum, checkpointing after each.
 * Memory holds one page and one batch, whatever the audience's size.
 *
 * A run the process did not finish (killed mid-write) is resumed by the next run of the same sync:
 * it continues after the last acknowledged batch, with the same batch boundaries and upload
 * session, so no acknowledged batch is sent twice.
 */

export interface SyncEngineOptions {
  /** SQLite in one process (`SyncStateStore`), Redis when workers share the syncs (`RedisSyncState`). */
  store: SyncState;
  /** Where the source query runs, and with which client's key. */
  source: SourceSettings;
  /** What the writer of a destination is given to reach its platform (URL, credentials). */
  connect(target: SyncTarget): unknown;
  logger: Logger;
  /** Each write call's bounds. @default 30000 ms, 3 retries */
  timeoutMs?: number;
  maxRetries?: number;
  /** Told when a run ends (`SYNC_SUCCEEDED`, `SYNC_FAILED`, `SYNC_ROWS_REJECTED`). @default nothing */
  onEvent?: (event: SyncEvent) => void;
  /** @default Date.now */
  now?: () => number;
}

export interface SyncEvent {
  type: 'SYNC_SUCCEEDED' | 'SYNC_FAILED' | 'SYNC_ROWS_REJECTED';
  sync: string;
  run: number;
  status: RunStatus;
  counts: RunCounts;
  error?: string;
}

export interface RunProgress {
  phase: 'reading' | 'writing';
  sourceRows: number;
  /** Rows written (accepted or rejected) of `toWrite`. */
  done: number;
  toWrite: number;
}

export interface RunOptions {
  dryRun?: boolean;
  /** Resend every row, not only what changed. */
  full?: boolean;
  /** What started the run (`cli`, `schedule`, `graph`). @default 'manual' */
  trigger?: string;
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Told the run's record once it exists (before the source is read). @default nothing */
  onStart?: (run: RunRecord) => void;
  /** Rows per change kind in a dry run's samples. @default 3 */
  sampleSize?: number;
}

export interface RunSample {
  change: Change;
  key: string;
  record: SyncRecord;
}

export interface RunSummary {
  /** The run's id (0 for a dry run, which leaves no history). */
  id: number;
  sync: string;
  status: RunStatus | 'DRY_RUN';
  counts: RunCounts;
  /** Fewest write calls that can carry this run's changes: ceil(rows / batch size) per operation. */
  lowerBound: number;
  durationMs: number;
  /** The run continued one a killed process left. */
  resumed: boolean;
  samples: RunSample[];
  quarantinedSamples: { key: string; code: string; reason: string }[];
  error?: string;
}

const errorText = (error: unknown) =>
  (error instanceof Error ? error.message : 'unknown error').slice(0, 500);

export class SyncEngine {
  private readonly now: () => number;
  private readonly active = new Set<string>();

  constructor(private readonly options: SyncEngineOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a run of the sync is under way in this process. */
  isRunning(sync: string): boolean {
    return this.active.has(sync);
  }

  async run(sync: SyncDefinition, runOptions: RunOptions = {}): Promise<RunSummary> {
    if (this.active.has(sync.name)) throw new SyncBusyError(sync.name);
    this.active.add(sync.name);
    const writer = sync.destination.target.destination.writer(
      this.options.connect(sync.destination.target),
      sync.destination.options,
      {
        timeoutMs: this.options.timeoutMs ?? 30_000,
        maxRetries: this.options.maxRetries ?? 3,
        logger: this.options.logger,
      },
    );
    try {
      return await this.runWith(sync, writer, runOptions);
    } finally {
      this.active.delete(sync.name);
      await writer.close();
    }
  }

  private async runWith(sync: SyncDefinition, writer: SyncWriter, options: RunOptions): Promise<RunSummary> {
    const { store } = this.options;
    const startedAt = this.now();
    const dryRun = options.dryRun ?? false;
    const unfinished = dryRun ? undefined : await store.unfinishedRun(sync.name);
    const run: RunRecord =
      unfinished ??
      (await store.createRun(sync.name, options.trigger ?? 'manual', options.full ?? false, startedAt));
    if (unfinished) await store.updateRun(run.id, { resumes: run.resumes + 1 });
    if (!dryRun) options.onStart?.((await store.run(run.id)) ?? run);
    const log = this.options.logger.child({ sync: sync.name, run: run.id });
    let counts: RunCounts = run.staged ? { ...run } : { ...ZERO_COUNTS };
    try {
      if (!run.staged) {
        await store.clearStaging(run.id);
        counts = await this.stage(sync, run, options);
        await store.updateRun(run.id, { staged: true, counts });
      }
      if (unfinished) log.debug({ checkpoint: run.checkpoint }, 'resuming the run a stopped process left');
      const lowerBound =
        Math.ceil((counts.inserts + counts.updates) / writer.batchSize.write) +
        Math.ceil(counts.removals / writer.batchSize.remove);
      if (dryRun) {
        const size = options.sampleSize ?? 3;
        const samples: RunSample[] = [];
        for (const change of ['insert', 'update', 'remove'] as const)
          for (const row of await store.samples(run.id, change, size))
            samples.push({ change, key: row.key, record: row.record });
        const quarantinedSamples = (await store.runRows(run.id, 'QUARANTINED', size)).map(
          ({ key, code, reason }) => ({ key, code, reason }),
        );
        await store.discardRun(run.id);
        return {
          id: 0,
          sync: sync.name,
          status: 'DRY_RUN',
          counts,
          lowerBound,
          durationMs: this.now() - startedAt,
          resumed: false,
          samples,
          quarantinedSamples,
        };
      }
      counts = await this.write(sync, writer, run, counts, options);
      const status: RunStatus = counts.rejected > 0 ? 'PARTIALLY_FAILED' : 'SUCCEEDED';
      await store.finishRun(run.id, status, counts, this.now());
      log.debug({ status, ...counts }, 'sync run finished');
      this.emit({ type: 'SYNC_SUCCEEDED', sync: sync.name, run: run.id, status, counts });
      this.recordHealth(sync, true, startedAt, { lastRunFailed: false, rowsRejected: counts.rejected });
      if (counts.rejected > 0)
        this.emit({ type: 'SYNC_ROWS_REJECTED', sync: sync.name, run: run.id, status, counts });
      return {
        id: run.id,
        sync: sync.name,
        status,
        counts,
        lowerBound,
        durationMs: this.now() - startedAt,
        resumed: unfinished !== undefined,
        samples: [],
        quarantinedSamples: [],
      };
    } catch (error) {
      if (dryRun) {
        await store.discardRun(run.id);
        throw error;
      }
      const cancelled = options.signal?.aborted === true;
      const status: RunStatus = cancelled ? 'CANCELLED' : 'FAILED';
      const message = cancelled ? 'cancelled' : errorText(error);
      await store.finishRun(run.id, status, counts, this.now(), message);
      log.warn({ status, error: message }, 'sync run did not finish');
      if (!cancelled) {
        this.emit({ type: 'SYNC_FAILED', sync: sync.name, run: run.id, status, counts, error: message });
        this.recordHealth(sync, false, startedAt, { lastRunFailed: true });
      }
      return {
        id: run.id,
        sync: sync.name,
        status,
        counts,
        lowerBound: 0,
        durationMs: this.now() - startedAt,
        resumed: unfinished !== undefined,
        samples: [],
        quarantinedSamples: [],
        error: message,
      };
    }
  }

  /** The sync's connection in the health model (`sync:<name>`): its runs, and how the last one ended. */
  private recordHealth(sync: SyncDefinition, ok: boolean, startedAt: number, facts: ConnectionFacts): void {
    const connection = {
      name: `sync:${sync.name}`,
      kind: 'sync' as const,
      platform: sync.destination.target.platform.name,
    };
    recordOutcome(
      connection,
      ok
        ? { ok: true, latencyMs: this.now() - startedAt }
        : { ok: false, errorClass: 'run-failed', code: 'SYNC_FAILED', message: `sync ${sync.name} failed` },
    );
    recordFacts(connection, facts);
  }

  private emit(event: SyncEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      this.options.logger.warn(
        { error: errorText(error), event: event.type },
        'a sync event listener failed',
      );
    }
  }

  /**
   * Reads the source and stages what changed; answers the run's counts so far. Each page is looked
   * up in one call (keys already seen, fingerprints acknowledged) and staged in one more, so a
   * store across the network (Redis) costs two round trips a page, not several a row.
   */
  private async stage(sync: SyncDefinition, run: RunRecord, options: RunOptions): Promise<RunCounts> {
    const { store } = this.options;
    const counts = { ...ZERO_COUNTS };
    const now = this.now();
    let seq = 0;
    let ops: StagingOp[] = [];
    const stageRow = (change: Change, key: string, record: SyncRecord, print: string) => {
      seq += 1;
      ops.push({ kind: 'stage', row: { seq, change, key, record, fingerprint: print } });
      counts[change === 'insert' ? 'inserts' : change === 'update' ? 'updates' : 'removals'] += 1;
    };
    const quarantine = (key: string, code: string, reason: string, record: SyncRecord | undefined) => {
      counts.quarantined += 1;
      ops.push({ kind: 'row', row: { run: run.id, key, status: 'QUARANTINED', code, reason, record } });
    };
    for await (const page of readSource(this.options.source, sync.source, options.signal)) {
      counts.sourceCalls += 1;
      const mapped = page.flatMap((row) => {
        counts.sourceRows += 1;
        return kept(sync, row, now) ? [mapRow(sync, row)] : [];
      });
      const keys = mapped.flatMap((m) => (m.key !== undefined ? [m.key] : []));
      const known = await store.lookup(sync.name, run.id, keys);
      const seen = new Set(known.seen);
      for (const row of mapped) {
        if (!row.ok) {
          // A known key with bad data is quarantined, not departed: a mirror keeps it.
          if (row.key !== undefined && !seen.has(row.key)) {
            seen.add(row.key);
            ops.push({ kind: 'see', key: row.key });
          }
          quarantine(row.key ?? '', row.code, row.reason, row.record);
          continue;
        }
        if (seen.has(row.key)) {
          quarantine(
            row.key,
            'DUPLICATE_KEY',
            `another row has the key ${sync.key} = ${row.key}; the first was kept`,
            row.record,
          );
          continue;
        }
        seen.add(row.key);
        ops.push({ kind: 'see', key: row.key });
        const print = fingerprint(row.record);
        const previous = known.fingerprints.get(row.key);
        if (previous === undefined) stageRow('insert', row.key, row.record, print);
        else if ((previous !== print || run.full) && sync.mode !== 'insert')
          stageRow('update', row.key, row.record, print);
        else counts.unchanged += 1;
      }
      await store.applyStaging(run.id, ops);
      ops = [];
      options.onProgress?.({
        phase: 'reading',
        sourceRows: counts.sourceRows,
        done: 0,
        toWrite: counts.inserts + counts.updates,
      });
    }
    if (sync.mode === 'mirror') {
      for await (const gone of store.departed(sync.name, run.id)) {
        stageRow('remove', gone.key, gone.record, '');
        if (ops.length >= 1_000) {
          await store.applyStaging(run.id, ops);
          ops = [];
        }
      }
      await store.applyStaging(run.id, ops);
      ops = [];
    }
    return counts;
  }

  /** Writes the staged rows after the checkpoint, a batch at a time, checkpointing after each. */
  private async write(
    sync: SyncDefinition,
    writer: SyncWriter,
    run: RunRecord,
    start: RunCounts,
    options: RunOptions,
  ): Promise<RunCounts> {
    const { store } = this.options;
    const counts = { ...start };
    const writes = counts.inserts + counts.updates;
    const total = writes + counts.removals;
    let checkpoint = run.checkpoint;
    while (checkpoint < total) {
      options.signal?.throwIfAborted();
      const operation = checkpoint < writes ? 'write' : 'remove';
      const size = writer.batchSize[operation];
      const opStart = operation === 'write' ? 0 : writes;
      const opRows = operation === 'write' ? writes : counts.removals;
      const opEnd = opStart + opRows;
      // Boundaries fixed by position, so a resumed run cuts the same batches.
      const index = Math.floor((checkpoint - opStart) / size);
      const batchEnd = Math.min(opStart + (index + 1) * size, opEnd);
      const rows = await store.pending(run.id, checkpoint, batchEnd - checkpoint);
      const batch: SyncBatch = {
        operation,
        mode: sync.mode,
        rows: rows.map(({ key, record }) => ({ key, record })),
        part: {
          index,
          count: Math.ceil(opRows / size),
          totalRows: opRows,
          session: `${sync.name}:${run.id}`,
        },
      };
      const ctx = createRequestContext(
        this.options.logger,
        `sync-${sync.name}-${run.id}-${operation}-${index}`,
        120_000,
      );
      const results = await writer.write(ctx, batch);
      counts.calls += 1;
      const outcome: BatchOutcome = {
        saved: [],
        removed: [],
        unsent: [],
        rows: [],
        checkpoint: batchEnd,
        counts,
      };
      for (const [i, row] of rows.entries()) {
        const result = results[i];
        if (result?.status === 'accepted') {
          counts.written += 1;
          if (row.change === 'remove') outcome.removed.push(row.key);
          else outcome.saved.push({ key: row.key, fingerprint: row.fingerprint, record: row.record });
          continue;
        }
        counts.rejected += 1;
        outcome.rows.push({
          run: run.id,
          key: row.key,
          status: 'FAILED',
          code: result?.code ?? 'NOT_IN_RESPONSE',
          reason: result?.reason ?? 'the destination answered without this row',
          record: row.record,
        });
        // Retried next run: an update is marked unsent, an insert was never recorded, a removal stays.
        if (row.change === 'update') outcome.unsent.push(row.key);
      }
      // The records acknowledged and the checkpoint after them, at once: a kill leaves both or neither.
      await store.commitBatch(sync.name, run.id, outcome, this.now());
      checkpoint = batchEnd;
      options.onProgress?.({
        phase: 'writing',
        sourceRows: counts.sourceRows,
        done: checkpoint,
        toWrite: total,
      });
    }
    return counts;
  }
}

export class SyncBusyError extends Error {
  readonly code = 'SYNC_ALREADY_RUNNING';
  constructor(sync: string) {
    super(`sync "${sync}" is already running`);
  }
}
