import { z } from 'zod';
import type { ConnectionKind, SharedConnection } from '../recorder.js';

/**
 * One connection's figures over one hour, as one process run recorded them: what the history keeps
 * for the quarterly review (issue 16). Every figure merges by addition (the latency histogram's
 * buckets, the freshness samples' count and sum) or by maximum, so rollups of several processes,
 * or of one process across restarts, add up to the connection's hour.
 */
export interface HourlyRollup {
  connection: string;
  kind: ConnectionKind;
  platform?: string;
  /** Hours since the epoch (UTC): `Math.floor(ms / 3_600_000)`. */
  hour: number;
  calls: number;
  errors: number;
  exhausted: number;
  byClass: Record<string, number>;
  /** Counts per latency bucket (lib/health/recorder.ts's bounds), mergeable bucket by bucket. */
  latency: number[];
  /** Time calls waited on the platform's rate limit. */
  throttledMs: number;
  /** Seconds since the last success, sampled at each flush: their count, sum and maximum. */
  freshness: { samples: number; sumSeconds: number; maxSeconds: number };
}

export const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const count = z.number().int().min(0);
/** A rollup read back from SQLite or Redis: checked, never trusted. */
export const hourlyRollupSchema = z.object({
  connection: z.string().min(1).max(300),
  kind: z.enum(['platform', 'webhook-source', 'endpoint', 'action', 'sync', 'client']),
  platform: z.string().min(1).max(100).optional(),
  hour: z.number().int(),
  calls: count,
  errors: count,
  exhausted: count,
  byClass: z.record(z.string().max(100), count),
  latency: z.array(count).max(20),
  throttledMs: z.number().min(0),
  freshness: z.object({ samples: count, sumSeconds: z.number().min(0), maxSeconds: z.number().min(0) }),
});

const emptyRollup = (connection: SharedConnection, hour: number): HourlyRollup => ({
  connection: connection.name,
  kind: connection.kind,
  ...(connection.platform !== undefined ? { platform: connection.platform } : {}),
  hour,
  calls: 0,
  errors: 0,
  exhausted: 0,
  byClass: {},
  latency: [],
  throttledMs: 0,
  freshness: { samples: 0, sumSeconds: 0, maxSeconds: 0 },
});

/** Adds `other` into `into` (same connection and hour). */
export function addRollup(into: HourlyRollup, other: HourlyRollup): HourlyRollup {
  into.calls += other.calls;
  into.errors += other.errors;
  into.exhausted += other.exhausted;
  for (const [errorClass, n] of Object.entries(other.byClass))
    into.byClass[errorClass] = (into.byClass[errorClass] ?? 0) + n;
  other.latency.forEach((n, i) => (into.latency[i] = (into.latency[i] ?? 0) + n));
  into.throttledMs += other.throttledMs;
  into.freshness = {
    samples: into.freshness.samples + other.freshness.samples,
    sumSeconds: into.freshness.sumSeconds + other.freshness.sumSeconds,
    maxSeconds: Math.max(into.freshness.maxSeconds, other.freshness.maxSeconds),
  };
  if (into.platform === undefined && other.platform !== undefined) into.platform = other.platform;
  return into;
}

/** Minute figures keyed by connection and minute, for subtracting what a run did not record itself. */
export type MinuteBaseline = Map<string, Map<number, SharedConnection['buckets'][number]>>;

/** The minute buckets of `saved` (restored at start), so this run's rollups leave them out. */
export function baselineOf(saved: readonly SharedConnection[]): MinuteBaseline {
  return new Map(
    saved.map((connection) => [connection.name, new Map(connection.buckets.map((b) => [b.minute, b]))]),
  );
}

/**
 * This run's hourly rollups from the recorder's own minute buckets, less the `baseline` restored
 * at start (those minutes were rolled up by the run before). The recorder keeps 24 hours, so a run
 * rewrites the hours it still holds with their whole figures: writing is idempotent, nothing is
 * counted twice when a flush repeats.
 */
export function rollupsOf(
  own: readonly SharedConnection[],
  baseline: MinuteBaseline,
  freshness: ReadonlyMap<string, HourlyRollup['freshness']>,
): HourlyRollup[] {
  const rollups = new Map<string, HourlyRollup>();
  const rollupFor = (connection: SharedConnection, hour: number) => {
    const key = `${connection.name}\n${hour}`;
    let rollup = rollups.get(key);
    if (!rollup) rollups.set(key, (rollup = emptyRollup(connection, hour)));
    return rollup;
  };
  for (const connection of own) {
    const before = baseline.get(connection.name);
    for (const bucket of connection.buckets) {
      const old = before?.get(bucket.minute);
      const calls = bucket.calls - (old?.calls ?? 0);
      const errors = bucket.errors - (old?.errors ?? 0);
      const exhausted = bucket.exhausted - (old?.exhausted ?? 0);
      const throttledMs = (bucket.throttledMs ?? 0) - (old?.throttledMs ?? 0);
      const oldClasses = new Map(old?.byClass ?? []);
      const byClass = bucket.byClass
        .map(([errorClass, n]) => [errorClass, n - (oldClasses.get(errorClass) ?? 0)] as const)
        .filter(([, n]) => n > 0);
      const latency = bucket.latency.map((n, i) => (n ?? 0) - (old?.latency[i] ?? 0));
      if (calls <= 0 && exhausted <= 0 && throttledMs <= 0) continue;
      const rollup = rollupFor(connection, Math.floor((bucket.minute * MINUTE_MS) / HOUR_MS));
      rollup.calls += Math.max(0, calls);
      rollup.errors += Math.max(0, errors);
      rollup.exhausted += Math.max(0, exhausted);
      rollup.throttledMs += Math.max(0, throttledMs);
      for (const [errorClass, n] of byClass)
        rollup.byClass[errorClass] = (rollup.byClass[errorClass] ?? 0) + n;
      latency.forEach((n, i) => (rollup.latency[i] = (rollup.latency[i] ?? 0) + Math.max(0, n)));
    }
  }
  for (const [key, samples] of freshness) {
    const [name, hour] = key.split('\n') as [string, string];
    const connection = own.find((c) => c.name === name);
    if (connection) rollupFor(connection, Number(hour)).freshness = { ...samples };
  }
  // Sparse latency arrays (no call in the low buckets) become zeros, as JSON would not keep holes.
  for (const rollup of rollups.values()) rollup.latency = Array.from(rollup.latency, (n) => n ?? 0);
  return [...rollups.values()];
}
