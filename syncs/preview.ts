import { z } from 'zod';
import type { RunSummary } from './engine.js';

/**
 * A dry run as it travels from a worker to a gateway (`runSync(dryRun: true)` with
 * `WORKER_SYNCS=on`): the BullMQ job's return value, read back from Redis and checked here, so a
 * gateway and a worker of different versions fail with a code rather than a wrong preview.
 */
export type SyncPreview = Pick<
  RunSummary,
  'counts' | 'lowerBound' | 'durationMs' | 'samples' | 'quarantinedSamples'
>;

const count = z.number().int().nonnegative();

const previewSchema = z.object({
  counts: z.object({
    sourceRows: count,
    sourceCalls: count,
    inserts: count,
    updates: count,
    removals: count,
    unchanged: count,
    quarantined: count,
    written: count,
    rejected: count,
    calls: count,
  }),
  lowerBound: count,
  durationMs: z.number().nonnegative(),
  samples: z.array(
    z.object({
      change: z.enum(['insert', 'update', 'remove']),
      key: z.string(),
      record: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    }),
  ),
  quarantinedSamples: z.array(z.object({ key: z.string(), code: z.string(), reason: z.string() })),
});

/** What a worker's dry-run job answers: the preview, or the code of why there is none. */
export const previewJobResult = z.union([
  z.object({ preview: previewSchema }),
  z.object({ failed: z.string().min(1) }),
]);
export type PreviewJobResult = z.infer<typeof previewJobResult>;

export type SyncDryRunErrorCode =
  /** No worker finished the dry run in time (none running, or a long run of the sync ahead of it). */
  | 'SYNC_DRY_RUN_TIMEOUT'
  /** The worker could not read the source (its code is the message's). */
  | 'SYNC_DRY_RUN_FAILED'
  /** The worker answered something that is not a preview. */
  | 'SYNC_DRY_RUN_BAD_RESULT';

export class SyncDryRunError extends Error {
  constructor(
    readonly code: SyncDryRunErrorCode,
    message: string,
    /** The worker's own error code, when it failed. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'SyncDryRunError';
  }
}
