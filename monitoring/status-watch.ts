import { integrations, type IntegrationStatus } from './health-model.js';

/** One connection's status changing, as the watch saw it. */
export interface StatusChange {
  name: string;
  previous: IntegrationStatus | null;
  status: IntegrationStatus;
  /** Epoch ms of the evaluation that saw it. */
  at: number;
}

export interface StatusWatchOptions {
  /** How often the health model is evaluated while someone watches. @default 1000 */
  intervalMs?: number;
  /** The statuses now, by connection (the process's health model by default; a test's own). */
  statuses?: () => ReadonlyMap<string, IntegrationStatus>;
  now?: () => number;
}

const fromModel = (): ReadonlyMap<string, IntegrationStatus> =>
  new Map(integrations().map((integration) => [integration.name, integration.status]));

interface Watcher {
  names: ReadonlySet<string> | undefined;
  /** The latest change per connection not yet taken: a slow reader gets each connection's latest, never a backlog. */
  pending: Map<string, StatusChange>;
  wake: (() => void) | undefined;
}

/**
 * Status changes of the health model, for the `integrationStatusChanged` subscription. The model
 * is a function of the recorder's minute buckets and the clock (a connection goes STALE with no
 * call at all), so changes are found by evaluating it on a timer and comparing each connection's
 * status with the last evaluation's. The timer runs only while someone watches: a gateway nobody
 * watches pays nothing. A watcher starts from the statuses at the moment it joins, so it receives
 * changes, never the current state (the `integrations` query gives that).
 */
export class StatusWatch {
  private readonly watchers = new Set<Watcher>();
  private last = new Map<string, IntegrationStatus>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly statuses: () => ReadonlyMap<string, IntegrationStatus>;
  private readonly now: () => number;

  constructor(options: StatusWatchOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.statuses = options.statuses ?? fromModel;
    this.now = options.now ?? Date.now;
  }

  /** Evaluates now and hands each watcher the changes since the last evaluation (the timer calls it). */
  evaluate(): StatusChange[] {
    const current = this.statuses();
    const at = this.now();
    const changes: StatusChange[] = [];
    for (const [name, status] of current) {
      const previous = this.last.get(name) ?? null;
      if (previous !== status) changes.push({ name, previous, status, at });
    }
    this.last = new Map(current);
    for (const watcher of this.watchers) {
      let woke = false;
      for (const change of changes) {
        if (watcher.names && !watcher.names.has(change.name)) continue;
        watcher.pending.set(change.name, change);
        woke = true;
      }
      if (woke) watcher.wake?.();
    }
    return changes;
  }

  /** The changes from now on, for connections named in `names` (all when absent), until `signal` aborts. */
  async *changes(names: readonly string[] | undefined, signal: AbortSignal): AsyncGenerator<StatusChange> {
    const watcher: Watcher = {
      names: names ? new Set(names) : undefined,
      pending: new Map(),
      wake: undefined,
    };
    if (this.watchers.size === 0) {
      // The first watcher's baseline: what is true now is not a change.
      this.last = new Map(this.statuses());
      this.timer = setInterval(() => this.evaluate(), this.intervalMs);
      this.timer.unref();
    }
    this.watchers.add(watcher);
    const onAbort = () => watcher.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (watcher.pending.size === 0) {
          await new Promise<void>((resolve) => (watcher.wake = resolve));
          watcher.wake = undefined;
          continue;
        }
        const batch = [...watcher.pending.values()];
        watcher.pending.clear();
        for (const change of batch) yield change;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.watchers.delete(watcher);
      if (this.watchers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }

  /** How many are watching (tests, and the timer's reason to run). */
  get watching(): number {
    return this.watchers.size;
  }
}
