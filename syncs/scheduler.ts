import type { Logger } from '../lib/logger.js';
import type { SyncService } from './service.js';

/**
 * Runs each scheduled sync when it is due: every `tickMs` it asks the service which syncs' next
 * run time has passed (from their last run's start in the state file, so a restart neither skips
 * nor doubles a run) and starts them, one run of a sync at a time. A small class with start/stop
 * so a worker process can host it instead of the embedded one.
 */

export interface SyncSchedulerOptions {
  /** How often due syncs are looked for. @default 15000 */
  tickMs?: number;
  /**
   * When an interval sync that never ran first runs: `after-interval` (one interval after the
   * scheduler was made, leaving time to preview it with a dry run and to start it by hand) or
   * `at-once`. Cron schedules run at their next time either way. @default 'after-interval'
   */
  firstRun?: 'after-interval' | 'at-once';
  logger: Logger;
}

export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private readonly createdAt = Date.now();

  constructor(
    private readonly service: SyncService,
    private readonly options: SyncSchedulerOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 15_000);
    this.timer.unref();
    this.tick();
  }

  /** Starts the syncs that are due now; answers their names. */
  tick(now = Date.now()): string[] {
    const started: string[] = [];
    for (const listing of this.service.list(now)) {
      const name = listing.definition.name;
      const schedule = listing.definition.schedule;
      const waitsFirst =
        listing.lastRun === undefined && schedule?.kind === 'interval' && this.options.firstRun !== 'at-once';
      const due = waitsFirst ? this.createdAt + schedule.everyMs : listing.nextRunAt;
      if (due === undefined || due > now || this.service.isRunning(name)) continue;
      started.push(name);
      const run = this.service
        .run(name, { trigger: 'schedule', signal: this.abort.signal })
        .then((summary) =>
          this.options.logger.debug(
            { sync: name, run: summary.id, status: summary.status },
            'scheduled sync ran',
          ),
        )
        .catch((error: unknown) =>
          this.options.logger.warn(
            { sync: name, error: error instanceof Error ? error.message : 'error' },
            'scheduled sync did not run',
          ),
        )
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }
    return started;
  }

  /** Resolves once the runs started so far have ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Stops looking for due syncs, cancels the runs under way and waits for them (the batches they wrote are recorded; the next run sends the rest). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }
}
