import { Queue, QueueEvents } from 'bullmq';
import type { SyncDefinition } from './definition.js';
import type { RunOptions, RunSummary } from './engine.js';
import { bullConnection, syncQueueName } from './jobs.js';
import { RedisSyncState } from './redis-state.js';
import { previewJobResult, SyncDryRunError, type SyncPreview } from './preview.js';
import { nextRunAt } from './schedule.js';
import type { SyncListing } from './service.js';
import { ZERO_COUNTS, type RowStatus, type RunRecord, type RunRow } from './state.js';

type Awaitable<T> = T | Promise<T>;

/**
 * The syncs as the graph sees them (`syncs`, `syncRuns`, `syncRunRows`, `runSync`): the embedded
 * ones (`SyncService`, SQLite, runs in this process) or those the workers run (`WorkerSyncs`,
 * their Redis state, runs queued for them), so a gateway shows the runs wherever they happen.
 */
export interface SyncDirectory {
  readonly definitions: readonly SyncDefinition[];
  list(now?: number): Awaitable<SyncListing[]>;
  runs(options?: { sync?: string; limit?: number }): Awaitable<RunRecord[]>;
  runRows(run: number, status?: RowStatus, limit?: number): Awaitable<RunRow[]>;
  isRunning(name: string): Awaitable<boolean>;
  /**
   * Runs the sync here and answers its summary (`onStart` told the run's record first); undefined
   * where runs happen elsewhere: then `enqueue`.
   */
  run?(name: string, options: RunOptions): Promise<RunSummary>;
  /**
   * Asks the workers for a dry run and waits for its preview; throws SyncDryRunError (with a code)
   * when none comes in time or the worker could not read the source.
   */
  preview?(name: string, options: { full: boolean; sampleSize: number }): Promise<SyncPreview>;
  /** Asks the workers for a run; answers the queued run as the graph shows it. */
  enqueue?(name: string, options: { full: boolean; trigger: string }): Promise<RunRecord>;
  close?(): Awaitable<void>;
}

export interface WorkerSyncsOptions {
  definitions: readonly SyncDefinition[];
  redisUrl: string;
  /** The workers' prefix (`<EVENT_LOG_PREFIX>:syncs`), for their state and their BullMQ queues. */
  prefix: string;
  /**
   * How long a dry run may wait for a worker's preview (queued behind a run of the sync under way,
   * then read and planned). @default 60000
   */
  dryRunTimeoutMs?: number;
  now?: () => number;
}

/**
 * The syncs of `WORKER_SYNCS=on` as a gateway sees them: the workers' state in Redis, read on
 * each request (runs, refused rows, records), and `runSync` as a job on the sync's queue, which a
 * worker runs (one at a time across workers, as the schedules' runs).
 */
export class WorkerSyncs implements SyncDirectory {
  private readonly queues = new Map<string, Queue>();
  private readonly events = new Map<string, Promise<QueueEvents>>();
  private readonly now: () => number;

  private constructor(
    private readonly options: WorkerSyncsOptions,
    private readonly state: RedisSyncState,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async open(options: WorkerSyncsOptions): Promise<WorkerSyncs> {
    return new WorkerSyncs(
      options,
      await RedisSyncState.open({ url: options.redisUrl, prefix: options.prefix }),
    );
  }

  get definitions(): readonly SyncDefinition[] {
    return this.options.definitions;
  }

  async list(now = this.now()): Promise<SyncListing[]> {
    return Promise.all(
      this.options.definitions.map(async (definition) => {
        const [lastRun] = await this.state.runs({ sync: definition.name, limit: 1 });
        return {
          definition,
          lastRun,
          nextRunAt: definition.schedule
            ? nextRunAt(definition.schedule, lastRun?.startedAt, now)
            : undefined,
          records: await this.state.countRecords(definition.name),
        };
      }),
    );
  }

  runs(options: { sync?: string; limit?: number } = {}): Promise<RunRecord[]> {
    return this.state.runs({
      ...(options.sync !== undefined ? { sync: options.sync } : {}),
      limit: options.limit ?? 20,
    });
  }

  runRows(run: number, status?: RowStatus, limit = 100): Promise<RunRow[]> {
    return this.state.runRows(run, status, limit);
  }

  async isRunning(name: string): Promise<boolean> {
    return (await this.state.unfinishedRun(name)) !== undefined;
  }

  private queueOf(name: string): Queue {
    const queue =
      this.queues.get(name) ??
      new Queue(syncQueueName(name), {
        connection: bullConnection(this.options.redisUrl),
        prefix: `${this.options.prefix}:bull`,
      });
    this.queues.set(name, queue);
    return queue;
  }

  /** The sync queue's events (one blocking connection each), listening before the first job is added. */
  private eventsOf(name: string): Promise<QueueEvents> {
    const found = this.events.get(name);
    if (found) return found;
    const events = new QueueEvents(syncQueueName(name), {
      connection: bullConnection(this.options.redisUrl),
      prefix: `${this.options.prefix}:bull`,
    });
    events.on('error', () => undefined);
    const ready = events.waitUntilReady().then(() => events);
    this.events.set(name, ready);
    ready.catch(() => this.events.delete(name));
    return ready;
  }

  async preview(name: string, options: { full: boolean; sampleSize: number }): Promise<SyncPreview> {
    const timeoutMs = this.options.dryRunTimeoutMs ?? 60_000;
    const events = await this.eventsOf(name);
    const job = await this.queueOf(name).add(
      'dry-run',
      { sync: name, trigger: 'graph', full: options.full, dryRun: true, sampleSize: options.sampleSize },
      // Read once by the caller waiting for it; kept a while for whoever looks at the queue.
      { removeOnComplete: { age: 3_600 }, removeOnFail: { age: 3_600 } },
    );
    let answer: unknown;
    try {
      answer = await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      const state = await job.getState().catch(() => 'unknown');
      if (state !== 'completed' && state !== 'failed') {
        // Nobody will read it: a job no worker has taken yet is withdrawn.
        if (state === 'waiting' || state === 'prioritized' || state === 'delayed')
          await job.remove().catch(() => undefined);
        throw new SyncDryRunError(
          'SYNC_DRY_RUN_TIMEOUT',
          `no worker finished the dry run of sync "${name}" within ${timeoutMs / 1000} s (job ${state})`,
        );
      }
      throw new SyncDryRunError(
        'SYNC_DRY_RUN_FAILED',
        `the dry run of sync "${name}" failed in the worker: ${error instanceof Error ? error.message : 'error'}`,
      );
    }
    const parsed = previewJobResult.safeParse(answer);
    if (!parsed.success)
      throw new SyncDryRunError(
        'SYNC_DRY_RUN_BAD_RESULT',
        `the worker's dry run of sync "${name}" is not a preview`,
      );
    if ('failed' in parsed.data)
      throw new SyncDryRunError(
        'SYNC_DRY_RUN_FAILED',
        `the worker could not read the source of sync "${name}" (${parsed.data.failed})`,
        parsed.data.failed,
      );
    return parsed.data.preview;
  }

  async enqueue(name: string, options: { full: boolean; trigger: string }): Promise<RunRecord> {
    const queue = this.queueOf(name);
    const at = this.now();
    await queue.add(
      'graph',
      { sync: name, trigger: options.trigger, full: options.full },
      { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 1_000 } },
    );
    // The run has no id until a worker starts it; syncRuns shows it then.
    return {
      ...ZERO_COUNTS,
      id: 0,
      sync: name,
      status: 'QUEUED',
      trigger: options.trigger,
      full: options.full,
      startedAt: at,
      finishedAt: undefined,
      staged: false,
      checkpoint: 0,
      resumes: 0,
      error: undefined,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    await Promise.allSettled([...this.events.values()].map(async (events) => (await events).close()));
    await this.state.close();
  }
}
