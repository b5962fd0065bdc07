/**
 * A long-running job of the worker role: event processing, retention pruning, webhook deliveries,
 * platform syncs. The same list runs inside the gateway (`BACKGROUND_JOBS=gateway`, the embedded
 * default) or in `worker` processes (`BACKGROUND_JOBS=worker`), so a job is written once and never
 * knows where it runs. Jobs that share work between processes do it through their store (the
 * event log's claims, a delivery outbox), never through the process they run in.
 */
export interface WorkerJob {
  /** Stable and short (`event-processor`): it names the job in logs, `/health` and metrics. */
  readonly name: string;
  /**
   * Starts the job and returns once it runs (not when it ends). `signal` aborts when the process
   * stops; a job may watch it instead of, or as well as, implementing `stop`.
   */
  start(signal: AbortSignal): void | Promise<void>;
  /** Stops taking work and resolves once the work in hand is finished or handed back. Called once. */
  stop(): Promise<void>;
  /** How the job is doing now, for `/health`: cheap, and never throws (a failure is `failing`). */
  health(): Promise<JobHealth>;
}

export interface JobHealth {
  /** `ok`: doing its work; `failing`: running but cannot do it now (its store is down); `stopped`. */
  status: 'ok' | 'failing' | 'stopped';
  /** A sentence for the operator when not `ok`; figures (a backlog, a lag) when it is. */
  detail?: string | Record<string, number>;
}
