import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import type { SyncTarget } from '../platforms/registry.js';
import type { SyncDefinition } from './definition.js';
import { SyncEngine, type RunOptions, type RunSummary, type SyncEvent } from './engine.js';
import { nextRunAt } from './schedule.js';
import { SyncStateStore, type RowStatus, type RunRecord, type RunRow } from './state.js';

/**
 * The syncs of one deployment: their definitions, the state file and the engine, as the CLI, the
 * scheduler and the graph see them.
 */

export interface SyncServiceOptions {
  definitions: readonly SyncDefinition[];
  /** The state file; `syncsStateFile(DATA_DIR)` beside the event log. */
  stateFile: string;
  /** The gateway's GraphQL URL, or how to learn it once the gateway listens. */
  gatewayUrl: string | (() => string);
  apiKey: string;
  /** What each destination's writer is given to reach its platform. */
  connect(target: SyncTarget): unknown;
  logger: Logger;
  onEvent?: (event: SyncEvent) => void;
  /** Write calls' bounds. @default 30000 ms, 3 retries */
  timeoutMs?: number;
  maxRetries?: number;
  now?: () => number;
}

/** The syncs' state file in the event log's data directory. */
export const syncsStateFile = (dataDir: string) => join(dataDir, 'syncs.db');

export class UnknownSyncError extends Error {
  readonly code = 'SYNC_NOT_FOUND';
  constructor(name: string, known: readonly string[]) {
    super(`no sync is named "${name}"; the syncs are ${known.join(', ') || '(none)'}`);
  }
}

export interface SyncListing {
  definition: SyncDefinition;
  lastRun: RunRecord | undefined;
  /** When the schedule next makes it due (ms since the epoch); undefined without a schedule. */
  nextRunAt: number | undefined;
  records: number;
}

export class SyncService {
  readonly store: SyncStateStore;
  private readonly engine: SyncEngine;
  private readonly byName: Map<string, SyncDefinition>;
  private readonly now: () => number;

  constructor(private readonly options: SyncServiceOptions) {
    this.store = new SyncStateStore(options.stateFile);
    this.now = options.now ?? Date.now;
    this.byName = new Map(options.definitions.map((d) => [d.name, d]));
    this.engine = new SyncEngine({
      store: this.store,
      source: {
        // Read at each page: an embedded gateway's port is known only once it listens.
        get gatewayUrl() {
          return typeof options.gatewayUrl === 'string' ? options.gatewayUrl : options.gatewayUrl();
        },
        apiKey: options.apiKey,
      },
      connect: options.connect,
      logger: options.logger,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      now: this.now,
    });
  }

  get definitions(): readonly SyncDefinition[] {
    return this.options.definitions;
  }

  definition(name: string): SyncDefinition {
    const found = this.byName.get(name);
    if (!found) throw new UnknownSyncError(name, [...this.byName.keys()]);
    return found;
  }

  /** Each sync with its last run and when it is next due, as seen at `now`. */
  list(now = this.now()): SyncListing[] {
    return this.options.definitions.map((definition) => {
      const lastRun = this.store.lastRun(definition.name);
      return {
        definition,
        lastRun,
        nextRunAt: definition.schedule ? nextRunAt(definition.schedule, lastRun?.startedAt, now) : undefined,
        records: this.store.countRecords(definition.name),
      };
    });
  }

  isRunning(name: string): boolean {
    return this.engine.isRunning(name);
  }

  run(name: string, options: RunOptions = {}): Promise<RunSummary> {
    return this.engine.run(this.definition(name), options);
  }

  runs(options: { sync?: string; limit?: number } = {}): RunRecord[] {
    if (options.sync !== undefined) this.definition(options.sync);
    return this.store.runs({
      ...(options.sync !== undefined ? { sync: options.sync } : {}),
      limit: options.limit ?? 20,
    });
  }

  runRows(run: number, status?: RowStatus, limit = 100): RunRow[] {
    return this.store.runRows(run, status, limit);
  }

  close(): void {
    this.store.close();
  }
}
