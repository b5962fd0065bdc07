import type { z } from 'zod';
import type { Logger } from '../../lib/logger.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { RowResult } from '../../lib/upstream/writes.js';

/**
 * A platform as a sync destination (`platforms/<name>/sync.ts`, reached through its descriptor):
 * the options a sync definition gives it, checked with zod, and a writer built from the
 * platform's own client, whose every call is one of the platform's bulk writes. The sync engine
 * (`syncs/`) knows nothing else about the platform.
 */

/**
 * - `insert`: only records the destination was never sent;
 * - `update`: records already sent whose values changed;
 * - `upsert`: both;
 * - `mirror`: both, and removes what left the source.
 */
export type SyncMode = 'insert' | 'update' | 'upsert' | 'mirror';
export const SYNC_MODES = ['insert', 'update', 'upsert', 'mirror'] as const satisfies readonly SyncMode[];

/** One mapped record: destination field names (a merge tag, a property, an identity key) to values. */
export type SyncRecord = Readonly<Record<string, string | number | boolean | null>>;

export interface SyncRow {
  /** The record's identity, as the engine keys it (an email lower case, a record id). */
  key: string;
  record: SyncRecord;
}

export interface SyncBatch {
  /** `write` adds or updates (insert/update/upsert by mode), `remove` takes records out (mirror). */
  operation: 'write' | 'remove';
  /** For `write`: whether records may be new (insert, upsert, mirror) and may exist (update, upsert, mirror). */
  mode: SyncMode;
  rows: readonly SyncRow[];
  /**
   * Where this batch sits among the run's batches of the same operation, for platforms that tie a
   * multi-part upload together: `session` is the same for every part of one run and operation (a
   * resumed run sends the rest of the same session).
   */
  part: { index: number; count: number; totalRows: number; session: string };
}

export interface SyncWriter {
  /** Rows per call, the platform's maximum: calls per run are ceil(rows / batch size). */
  readonly batchSize: { write: number; remove: number };
  /** Writes one batch; answers one row result per row, in the order given. Throws when the call fails whole. */
  write(ctx: RequestContext, batch: SyncBatch): Promise<RowResult[]>;
  close(): Promise<void>;
}

export interface SyncWriterSettings {
  timeoutMs: number;
  maxRetries: number;
  logger: Logger;
}

export interface SyncDestination<C = unknown, O = unknown> {
  /** The destination's kind in a sync definition (`destination.type`). */
  type: string;
  title: string;
  /** What `destination.options` is checked with. */
  options: z.ZodType<O>;
  /** The modes it can carry out. */
  modes: readonly SyncMode[];
  /** The record fields it reads the identity from, in words, for errors and docs. */
  identity: string;
  /** Whether a record can be written: the identity field it needs, present; an error message when not. */
  check(record: SyncRecord, options: O, mode: SyncMode): string | undefined;
  writer(connection: C, options: O, settings: SyncWriterSettings): SyncWriter;
}

/** Keeps a destination's connection and option types. */
export function defineSyncDestination<C, O>(destination: SyncDestination<C, O>): SyncDestination<C, O> {
  return destination;
}

/**
 * A destination with its connection and option types erased, as the descriptor carries it: the
 * engine checks options with `parseOptions` and hands back what it answered, and gives the writer
 * the connection the same descriptor's `sandbox.connection` (or configuration) made, so the casts
 * here cannot meet a value of another type.
 */
export interface AnySyncDestination {
  type: string;
  title: string;
  modes: readonly SyncMode[];
  identity: string;
  parseOptions(input: unknown): { success: true; data: unknown } | { success: false; error: z.ZodError };
  check(record: SyncRecord, options: unknown, mode: SyncMode): string | undefined;
  writer(connection: unknown, options: unknown, settings: SyncWriterSettings): SyncWriter;
}

export function eraseSyncDestination<C, O>(destination: SyncDestination<C, O>): AnySyncDestination {
  return {
    type: destination.type,
    title: destination.title,
    modes: destination.modes,
    identity: destination.identity,
    parseOptions: (input) => destination.options.safeParse(input),
    check: (record, options, mode) => destination.check(record, options as O, mode),
    writer: (connection, options, settings) => destination.writer(connection as C, options as O, settings),
  };
}
