import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { WorkerJob } from '../lib/jobs/job.js';
import type { Logger } from '../lib/logger.js';
import type { SyncTarget } from '../platforms/registry.js';
import type { SyncDefinition } from './definition.js';
import { SyncEngine, type SyncEvent } from './engine.js';
import type { PreviewJobResult } from './preview.js';
import { RedisSyncState } from './redis-state.js';

/**
 * The syncs as a worker job, for `worker` processes sharing them (`WORKER_SYNCS=on`):
 * - each sync is a BullMQ queue (`sync-<name>`) whose schedule is a job scheduler (`every` for an
 *   interval, a cron `pattern` in its time zone). Every worker upserts the same scheduler and
 *   BullMQ names each iteration's job after its time, so a scheduled run exists once, however many
 *   workers there are;
 * - the queue's global concurrency is 1: one run of a sync at a time across all workers. A trigger
 *   while one runs waits in the queue and runs after it (incremental, it sends only what is left);
 * - a worker holds the job under a lock it renews. Killed, its lock lapses, another worker's stalled
 *   check puts the job back, and that worker's engine finds the run unfinished in the shared state
 *   and resumes it after the last acknowledged batch;
 * - the state (fingerprints, runs, staged rows, refused rows) is in Redis (`RedisSyncState`), the
 *   Redis BullMQ needs anyway, so every worker sees the same checkpoints.
 */

export interface SyncWorkerJobOptions {
  definitions: readonly SyncDefinition[];
  redisUrl: string;
  /** Prefix of the state's keys and of BullMQ's (`<prefix>:bull:sync-<name>:…`). */
  prefix: string;
  gatewayUrl: string;
  apiKey: string;
  connect(target: SyncTarget): unknown;
  logger: Logger;
  onEvent?: (event: SyncEvent) => void;
  /**
   * How long a worker's hold on a run lasts without renewal: a killed worker's run is taken over
   * after about this long. @default 30000
   */
  lockMs?: number;
}

interface SyncJobData {
  sync: string;
  trigger: string;
  /** Resend every row (a `runSync(full: true)` from the graph). @default false */
  full?: boolean;
  /**
   * A preview (`runSync(dryRun: true)` from a gateway): read and plan, write nothing, and answer
   * the preview as the job's return value (syncs/preview.ts), which the gateway waits for. It
   * queues with the sync's runs, one at a time: a dry run and a run of one sync share its state.
   */
  dryRun?: boolean;
  /** Rows of each change a dry run samples. */
  sampleSize?: number;
}

export const syncQueueName = (sync: string) => `sync-${sync}`;

/** `redis://user:pass@host:port/db` as the connection options BullMQ's client takes. */
export function bullConnection(url: string): ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's blocking commands must wait as long as they need.
    maxRetriesPerRequest: null,
  };
}

/**
 * A dry run for a gateway: its preview, or the code of why there is none (answered, not thrown: a
 * source that cannot be read now is not retried by BullMQ, the caller asks again).
 */
async function preview(
  engine: SyncEngine,
  definition: SyncDefinition,
  data: SyncJobData,
  log: Logger,
): Promise<PreviewJobResult> {
  try {
    const summary = await engine.run(definition, {
      trigger: data.trigger,
      dryRun: true,
      full: data.full === true,
      ...(data.sampleSize !== undefined ? { sampleSize: data.sampleSize } : {}),
    });
    const { counts, lowerBound, durationMs, samples, quarantinedSamples } = summary;
    return { preview: { counts, lowerBound, durationMs, samples, quarantinedSamples } };
  } catch (error) {
    const code =
      error instanceof Error && 'code' in error && typeof error.code === 'string'
        ? error.code
        : 'SYNC_DRY_RUN_FAILED';
    log.warn({ code, error: error instanceof Error ? error.message : 'error' }, 'sync dry run failed');
    return { failed: code };
  }
}

export function syncWorkerJob(options: SyncWorkerJobOptions): WorkerJob {
  const { logger } = options;
  const connection = bullConnection(options.redisUrl);
  const bullPrefix = `${options.prefix}:bull`;
  const byName = new Map(options.definitions.map((d) => [d.name, d]));
  const abort = new AbortController();
  const queues: Queue<SyncJobData>[] = [];
  const workers: Worker<SyncJobData>[] = [];
  let state: RedisSyncState | undefined;
  let running = false;

  const handle = (engine: SyncEngine) => async (job: Job<SyncJobData>) => {
    const definition = byName.get(job.data.sync);
    // A job of a sync taken out of the file: done, with why, never retried.
    if (!definition) return { skipped: `no sync is named "${job.data.sync}" in this worker's SYNCS_FILE` };
    const log = logger.child({ sync: definition.name, job: job.id });
    if (job.data.dryRun) return preview(engine, definition, job.data, log);
    const summary = await engine.run(definition, {
      trigger: job.data.trigger,
      full: job.data.full === true,
      signal: abort.signal,
      onStart: (run) =>
        log.info({ run: run.id, resumes: run.resumes, checkpoint: run.checkpoint }, 'sync run started'),
      onProgress: (progress) => {
        if (progress.phase === 'writing')
          log.info({ done: progress.done, toWrite: progress.toWrite }, 'sync batch written');
      },
    });
    log.info({ run: summary.id, status: summary.status, resumed: summary.resumed }, 'sync run ended');
    return { run: summary.id, status: summary.status };
  };

  return {
    name: 'syncs',
    async start() {
      state = await RedisSyncState.open({ url: options.redisUrl, prefix: options.prefix });
      const engine = new SyncEngine({
        store: state,
        source: { gatewayUrl: options.gatewayUrl, apiKey: options.apiKey },
        connect: options.connect,
        logger,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      });
      const lockDuration = options.lockMs ?? 30_000;
      for (const definition of options.definitions) {
        const name = syncQueueName(definition.name);
        const queue = new Queue<SyncJobData>(name, { connection, prefix: bullPrefix });
        queues.push(queue);
        await queue.setGlobalConcurrency(1);
        const { schedule } = definition;
        if (schedule)
          await queue.upsertJobScheduler(
            name,
            schedule.kind === 'interval'
              ? { every: schedule.everyMs }
              : { pattern: schedule.expression, tz: schedule.timeZone },
            {
              name: 'scheduled',
              data: { sync: definition.name, trigger: 'schedule' },
              opts: { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 1_000 } },
            },
          );
        // A schedule taken out of the file stops.
        else await queue.removeJobScheduler(name);
        const worker = new Worker<SyncJobData>(name, handle(engine), {
          connection,
          prefix: bullPrefix,
          concurrency: 1,
          lockDuration,
          stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
          // A run killed more than this many times in a row is failed rather than retried forever.
          maxStalledCount: 5,
        });
        worker.on('failed', (job, error) =>
          logger.warn({ sync: job?.data.sync, job: job?.id, error: error.message }, 'a sync job failed'),
        );
        worker.on('error', (error) =>
          logger.warn({ error: error.message }, 'the sync worker lost Redis; retrying'),
        );
        workers.push(worker);
      }
      running = true;
    },
    async stop() {
      running = false;
      // Runs under way end CANCELLED (their acknowledged batches are recorded); the next run sends the rest.
      abort.abort();
      await Promise.allSettled(workers.map((worker) => worker.close()));
      await Promise.allSettled(queues.map((queue) => queue.close()));
      await state?.close();
    },
    async health() {
      if (!running) return { status: 'stopped' };
      const down = workers.filter((worker) => !worker.isRunning()).length;
      return down > 0
        ? { status: 'failing', detail: `${down} sync queue(s) are not being worked` }
        : { status: 'ok', detail: { syncs: workers.length } };
    },
  };
}
