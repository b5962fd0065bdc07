import type { Logger } from '../logger.js';
import type { JobHealth, WorkerJob } from './job.js';

export interface RunningJobs {
  /** Each job's name and health; a job whose check throws is reported `failing`, not a crash. */
  health(): Promise<{ status: 'ok' | 'failing'; jobs: Record<string, JobHealth> }>;
  /** Stops every job, the last started first; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `jobs` in order and keeps them together: one health report and one stop, for whichever
 * process runs them (the gateway, or a worker). A job that fails to start stops the ones already
 * started and throws, so a process never runs half its jobs.
 */
export async function startJobs(jobs: readonly WorkerJob[], logger: Logger): Promise<RunningJobs> {
  const controller = new AbortController();
  const started: WorkerJob[] = [];
  const stopAll = async () => {
    controller.abort();
    for (const job of [...started].reverse()) {
      await job
        .stop()
        .catch((error: unknown) => logger.error({ err: error, job: job.name }, 'job stop failed'));
    }
  };
  try {
    for (const job of jobs) {
      await job.start(controller.signal);
      started.push(job);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  // Debug: the embedded demo keeps its start-up quiet; a worker says which jobs it runs when it listens.
  logger.debug({ jobs: jobs.map((job) => job.name) }, 'background jobs started');
  let stopped: Promise<void> | undefined;
  return {
    async health() {
      const entries = await Promise.all(
        jobs.map(async (job): Promise<[string, JobHealth]> => {
          if (stopped) return [job.name, { status: 'stopped' }];
          try {
            return [job.name, await job.health()];
          } catch (error) {
            return [
              job.name,
              { status: 'failing', detail: error instanceof Error ? error.message : String(error) },
            ];
          }
        }),
      );
      const report = Object.fromEntries(entries);
      return { status: entries.every(([, h]) => h.status === 'ok') ? 'ok' : 'failing', jobs: report };
    },
    stop() {
      stopped ??= stopAll();
      return stopped;
    },
  };
}
