/**
 * The health model's raw figures: for each connection (a platform client, a webhook source, an
 * outbound endpoint or action, a sync), what happened minute by minute over the last 24 hours:
 * calls and failures by error class, a latency histogram, the last success and the last error, and
 * the rate-limit budget and breaker state last seen. One recorder per process, like prom-client's
 * registry: the code that moves data records into it (`recordOutcome`), the monitoring reads it
 * (`connectionWindows`).
 *
 * Why not read prom-client's registry instead: its counters are totals since start, with no
 * "last 5 minutes" or "last success at"; windows would need a second copy of every series kept per
 * scrape. Minute buckets here cost 1,440 small records per connection at most (a few hundred KB for
 * the demo's dozen connections), and nothing per call beyond a few additions.
 */

/** `client`: a caller of the gateway (`client:<label>`): its requests, and those refused (denied, failed authentication). */
export type ConnectionKind = 'platform' | 'webhook-source' | 'endpoint' | 'action' | 'sync' | 'client';

export interface Outcome {
  ok: boolean;
  latencyMs?: number;
  /** `rate-limited`, `server`, `client`, `timeout`, `network`, `refused`, `signature`, ...: a small fixed set per kind. */
  errorClass?: string;
  /** The public error code and a message without personal data, for `lastError`. */
  code?: string;
  message?: string;
}

/** Upper bounds of the latency buckets, in ms (the metrics' histogram buckets). */
const LATENCY_BOUNDS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];
const MINUTE_MS = 60_000;
const KEEP_MINUTES = 24 * 60;

interface MinuteBucket {
  minute: number;
  calls: number;
  errors: number;
  /** Messages that used every attempt (endpoints and actions), counted when the notice arrives. */
  exhausted: number;
  byClass: Map<string, number>;
  latency: number[];
  /** Time calls spent waiting on the platform's rate limit (client-side throttle, Retry-After). */
  throttledMs: number;
}

interface ConnectionRecord {
  name: string;
  kind: ConnectionKind;
  platform: string | undefined;
  buckets: MinuteBucket[];
  lastSuccessAt: number | undefined;
  lastError: { at: number; code: string; message: string } | undefined;
  budget: { free: number; of: number; at: number } | undefined;
  breaker: 'open' | 'closed' | undefined;
  facts: ConnectionFacts;
  /** When `facts` last changed: another process's newer facts win when merging. */
  factsAt: number | undefined;
}

/** What a connection's last event said about it, beyond calls: a sync's last run, an endpoint disabled. */
export interface ConnectionFacts {
  /** The last sync run failed. */
  lastRunFailed?: boolean;
  /** Rows the destination refused in the last sync run. */
  rowsRejected?: number;
  /** The outbound endpoint is disabled (410 Gone, or failing for 5 days). */
  disabled?: boolean;
}

export interface WindowFigures {
  calls: number;
  errors: number;
  /** Messages that used every attempt (endpoints and actions). */
  exhausted: number;
  errorsByClass: Record<string, number>;
  /** Share of calls that succeeded; null with no calls. */
  successRate: number | null;
  /** Percentiles from the latency histogram (each the upper bound of its bucket), in ms; null with no timed call. */
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /** Time calls waited on the platform's rate limit. */
  throttledMs: number;
}

export interface ConnectionWindows {
  name: string;
  kind: ConnectionKind;
  platform: string | undefined;
  windows: { '5m': WindowFigures; '1h': WindowFigures; '24h': WindowFigures };
  /** Successes per minute over the last hour (the usual rate staleness is judged by). */
  successesPerMinute: number;
  lastSuccessAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
  budget: { free: number; of: number; at: string } | null;
  breaker: 'open' | 'closed' | null;
  facts: ConnectionFacts;
  /** One point per minute of the last `history` minutes: calls and errors (sparklines). */
  history: { minute: string; calls: number; errors: number }[];
}

const connections = new Map<string, ConnectionRecord>();

function recordFor(name: string, kind: ConnectionKind, platform: string | undefined): ConnectionRecord {
  let record = connections.get(name);
  if (!record) {
    record = {
      name,
      kind,
      platform,
      buckets: [],
      lastSuccessAt: undefined,
      lastError: undefined,
      budget: undefined,
      breaker: undefined,
      facts: {},
      factsAt: undefined,
    };
    connections.set(name, record);
  }
  return record;
}

function bucketFor(record: ConnectionRecord, nowMs: number): MinuteBucket {
  const minute = Math.floor(nowMs / MINUTE_MS);
  const last = record.buckets.at(-1);
  if (last && last.minute === minute) return last;
  const bucket: MinuteBucket = {
    minute,
    calls: 0,
    errors: 0,
    exhausted: 0,
    byClass: new Map(),
    latency: [],
    throttledMs: 0,
  };
  record.buckets.push(bucket);
  // Drop what left the 24-hour window (buckets are in minute order).
  const oldest = minute - KEEP_MINUTES;
  let drop = 0;
  while (drop < record.buckets.length && record.buckets[drop]!.minute <= oldest) drop++;
  if (drop > 0) record.buckets.splice(0, drop);
  return bucket;
}

/** One call, webhook, delivery or run of a connection. */
export function recordOutcome(
  connection: { name: string; kind: ConnectionKind; platform?: string },
  outcome: Outcome,
  nowMs = Date.now(),
): void {
  const record = recordFor(connection.name, connection.kind, connection.platform);
  const bucket = bucketFor(record, nowMs);
  bucket.calls += 1;
  if (outcome.latencyMs !== undefined) {
    const index = LATENCY_BOUNDS_MS.findIndex((bound) => outcome.latencyMs! <= bound);
    const slot = index < 0 ? LATENCY_BOUNDS_MS.length : index;
    bucket.latency[slot] = (bucket.latency[slot] ?? 0) + 1;
  }
  if (outcome.ok) {
    record.lastSuccessAt = nowMs;
    return;
  }
  bucket.errors += 1;
  const errorClass = outcome.errorClass ?? 'error';
  bucket.byClass.set(errorClass, (bucket.byClass.get(errorClass) ?? 0) + 1);
  record.lastError = { at: nowMs, code: outcome.code ?? errorClass, message: outcome.message ?? '' };
}

/**
 * A message that used every attempt (a delivery notice), in the minute it happened: the count the
 * health model shows per endpoint and the `deliveries-exhausted` alert reads. A notice dated in the
 * future counts now; one older than the 24 hours kept is dropped.
 */
export function recordExhausted(
  connection: { name: string; kind: ConnectionKind; platform?: string },
  atMs: number,
  nowMs = Date.now(),
): void {
  const at = Math.min(atMs, nowMs);
  const minute = Math.floor(at / MINUTE_MS);
  if (minute <= Math.floor(nowMs / MINUTE_MS) - KEEP_MINUTES) return;
  const record = recordFor(connection.name, connection.kind, connection.platform);
  const existing = record.buckets.find((bucket) => bucket.minute === minute);
  if (existing) {
    existing.exhausted += 1;
    return;
  }
  const bucket: MinuteBucket = {
    minute,
    calls: 0,
    errors: 0,
    exhausted: 1,
    byClass: new Map(),
    latency: [],
    throttledMs: 0,
  };
  // Buckets stay in minute order: an earlier minute goes before the later ones.
  const index = record.buckets.findIndex((b) => b.minute > minute);
  if (index < 0) record.buckets.push(bucket);
  else record.buckets.splice(index, 0, bucket);
}

/** Time a call waited on the platform's rate limit, in the minute the wait ended. */
export function recordThrottled(
  connection: { name: string; kind: ConnectionKind; platform?: string },
  waitedMs: number,
  nowMs = Date.now(),
): void {
  if (!(waitedMs > 0)) return;
  const record = recordFor(connection.name, connection.kind, connection.platform);
  bucketFor(record, nowMs).throttledMs += waitedMs;
}

/** Sets what the connection's last event said (a sync run's outcome, an endpoint disabled). */
export function recordFacts(
  connection: { name: string; kind: ConnectionKind; platform?: string },
  facts: ConnectionFacts,
  nowMs = Date.now(),
): void {
  const record = recordFor(connection.name, connection.kind, connection.platform);
  record.facts = { ...record.facts, ...facts };
  record.factsAt = nowMs;
}

/** The rate-limit budget and breaker state a platform client saw on its last call. */
export function recordLimits(
  connection: { name: string; kind: ConnectionKind; platform?: string },
  limits: { budget?: { free: number; of: number }; breaker?: 'open' | 'closed' },
  nowMs = Date.now(),
): void {
  const record = recordFor(connection.name, connection.kind, connection.platform);
  if (limits.budget && Number.isFinite(limits.budget.of) && limits.budget.of > 0)
    record.budget = { ...limits.budget, at: nowMs };
  if (limits.breaker) record.breaker = limits.breaker;
}

export function percentile(histogram: readonly (number | undefined)[], total: number, p: number): number {
  const rank = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS.at(-1)! * 2;
  }
  return LATENCY_BOUNDS_MS.at(-1)! * 2;
}

/** Calls, failures by class, a latency histogram and throttled time: what one window or one hour sums. */
export interface BucketFigures {
  calls: number;
  errors: number;
  exhausted: number;
  byClass: Map<string, number> | readonly [string, number][];
  latency: readonly (number | null | undefined)[];
  throttledMs?: number;
}

/** Figures over any buckets: minute buckets here, hourly rollups in the history (lib/health/history). */
export function figuresOf(buckets: readonly BucketFigures[]): WindowFigures {
  const histogram: number[] = [];
  const byClass: Record<string, number> = {};
  let calls = 0;
  let errors = 0;
  let exhausted = 0;
  let throttledMs = 0;
  for (const bucket of buckets) {
    calls += bucket.calls;
    errors += bucket.errors;
    exhausted += bucket.exhausted;
    throttledMs += bucket.throttledMs ?? 0;
    for (const [errorClass, count] of bucket.byClass)
      byClass[errorClass] = (byClass[errorClass] ?? 0) + count;
    bucket.latency.forEach((count, i) => (histogram[i] = (histogram[i] ?? 0) + (count ?? 0)));
  }
  const timed = histogram.reduce((sum, count) => sum + (count ?? 0), 0);
  return {
    calls,
    errors,
    exhausted,
    throttledMs,
    errorsByClass: byClass,
    successRate: calls === 0 ? null : (calls - errors) / calls,
    latencyMs:
      timed === 0
        ? null
        : {
            p50: percentile(histogram, timed, 0.5),
            p95: percentile(histogram, timed, 0.95),
            p99: percentile(histogram, timed, 0.99),
          },
  };
}

/** Every connection's figures now, over 5 minutes, 1 hour and 24 hours, with `historyMinutes` of sparkline. */
export function connectionWindows(nowMs = Date.now(), historyMinutes = 60): ConnectionWindows[] {
  const minute = Math.floor(nowMs / MINUTE_MS);
  const since = (minutes: number) => (bucket: MinuteBucket) => bucket.minute > minute - minutes;
  return mergedRecords().map((record) => {
    const lastHour = record.buckets.filter(since(60));
    const successes = lastHour.reduce((sum, b) => sum + b.calls - b.errors, 0);
    const byMinute = new Map(record.buckets.map((b) => [b.minute, b]));
    const history = Array.from({ length: historyMinutes }, (_, i) => {
      const m = minute - historyMinutes + 1 + i;
      const bucket = byMinute.get(m);
      return {
        minute: new Date(m * MINUTE_MS).toISOString(),
        calls: bucket?.calls ?? 0,
        errors: bucket?.errors ?? 0,
      };
    });
    return {
      name: record.name,
      kind: record.kind,
      platform: record.platform,
      windows: {
        '5m': figuresOf(record.buckets.filter(since(5))),
        '1h': figuresOf(lastHour),
        '24h': figuresOf(record.buckets.filter(since(KEEP_MINUTES))),
      },
      successesPerMinute: successes / 60,
      lastSuccessAt: record.lastSuccessAt === undefined ? null : new Date(record.lastSuccessAt).toISOString(),
      lastError: record.lastError
        ? { ...record.lastError, at: new Date(record.lastError.at).toISOString() }
        : null,
      budget: record.budget ? { ...record.budget, at: new Date(record.budget.at).toISOString() } : null,
      breaker: record.breaker ?? null,
      facts: record.facts,
      history,
    };
  });
}

/** Declares a connection before any traffic (a configured endpoint, a sync), so it is listed as idle. */
export function declareConnection(connection: {
  name: string;
  kind: ConnectionKind;
  platform?: string;
}): void {
  recordFor(connection.name, connection.kind, connection.platform);
}

/** Forgets every connection (tests). */
export function resetConnectionHealth(): void {
  connections.clear();
  remote.clear();
}

/**
 * Other processes' figures (`worker` processes' deliveries, actions and syncs), by process, as
 * they last published them (lib/health/shared.ts). Merged into `connectionWindows` with this
 * process's own, so the gateway's `integrations`, `/status` and alerts see every process.
 */
const remote = new Map<string, SharedConnection[]>();

/** A connection's raw figures as one process publishes them: JSON, validated on the way in. */
export interface SharedConnection {
  name: string;
  kind: ConnectionKind;
  platform?: string;
  buckets: {
    minute: number;
    calls: number;
    errors: number;
    exhausted: number;
    byClass: [string, number][];
    latency: (number | null)[];
    throttledMs?: number;
  }[];
  lastSuccessAt?: number;
  lastError?: { at: number; code: string; message: string };
  budget?: { free: number; of: number; at: number };
  breaker?: 'open' | 'closed';
  facts: ConnectionFacts;
  factsAt?: number;
}

/** This process's own connections, to publish (only the last 24 hours are kept anyway). */
export function exportConnections(): SharedConnection[] {
  return [...connections.values()].map((record) => ({
    name: record.name,
    kind: record.kind,
    ...(record.platform !== undefined ? { platform: record.platform } : {}),
    buckets: record.buckets.map((bucket) => ({
      minute: bucket.minute,
      calls: bucket.calls,
      errors: bucket.errors,
      exhausted: bucket.exhausted,
      byClass: [...bucket.byClass],
      // Sparse arrays become nulls in JSON.
      latency: Array.from(bucket.latency, (count) => count ?? null),
      ...(bucket.throttledMs > 0 ? { throttledMs: bucket.throttledMs } : {}),
    })),
    ...(record.lastSuccessAt !== undefined ? { lastSuccessAt: record.lastSuccessAt } : {}),
    ...(record.lastError ? { lastError: record.lastError } : {}),
    ...(record.budget ? { budget: record.budget } : {}),
    ...(record.breaker ? { breaker: record.breaker } : {}),
    facts: record.facts,
    ...(record.factsAt !== undefined ? { factsAt: record.factsAt } : {}),
  }));
}

/** Replaces what one other process published; `undefined` forgets it (its snapshot expired). */
export function setRemoteConnections(source: string, shared: SharedConnection[] | undefined): void {
  if (shared) remote.set(source, shared);
  else remote.delete(source);
}

/** The processes whose figures are merged in now. */
export function remoteSources(): string[] {
  return [...remote.keys()];
}

function importRecord(shared: SharedConnection): ConnectionRecord {
  return {
    name: shared.name,
    kind: shared.kind,
    platform: shared.platform,
    buckets: shared.buckets.map((bucket) => ({
      minute: bucket.minute,
      calls: bucket.calls,
      errors: bucket.errors,
      exhausted: bucket.exhausted,
      byClass: new Map(bucket.byClass),
      latency: bucket.latency.map((count) => count ?? 0),
      throttledMs: bucket.throttledMs ?? 0,
    })),
    lastSuccessAt: shared.lastSuccessAt,
    lastError: shared.lastError,
    budget: shared.budget,
    breaker: shared.breaker,
    facts: shared.facts,
    factsAt: shared.factsAt,
  };
}

const later = <T extends { at: number }>(a: T | undefined, b: T | undefined) =>
  !a ? b : !b ? a : b.at > a.at ? b : a;

/** One connection's figures from two processes: calls add up minute by minute, the latest of the rest wins. */
function mergeRecord(into: ConnectionRecord, other: ConnectionRecord): ConnectionRecord {
  const byMinute = new Map<number, MinuteBucket>();
  for (const bucket of [...into.buckets, ...other.buckets]) {
    const existing = byMinute.get(bucket.minute);
    if (!existing) {
      byMinute.set(bucket.minute, {
        ...bucket,
        byClass: new Map(bucket.byClass),
        latency: [...bucket.latency],
      });
      continue;
    }
    existing.calls += bucket.calls;
    existing.errors += bucket.errors;
    existing.exhausted += bucket.exhausted;
    existing.throttledMs += bucket.throttledMs;
    for (const [errorClass, count] of bucket.byClass)
      existing.byClass.set(errorClass, (existing.byClass.get(errorClass) ?? 0) + count);
    bucket.latency.forEach((count, i) => (existing.latency[i] = (existing.latency[i] ?? 0) + (count ?? 0)));
  }
  const newerFacts = (other.factsAt ?? 0) > (into.factsAt ?? 0);
  return {
    name: into.name,
    kind: into.kind,
    platform: into.platform ?? other.platform,
    buckets: [...byMinute.values()].sort((a, b) => a.minute - b.minute),
    lastSuccessAt:
      into.lastSuccessAt === undefined || other.lastSuccessAt === undefined
        ? (into.lastSuccessAt ?? other.lastSuccessAt)
        : Math.max(into.lastSuccessAt, other.lastSuccessAt),
    lastError: later(into.lastError, other.lastError),
    budget: later(into.budget, other.budget),
    // Open anywhere is what a person must know: that process's calls are being refused.
    breaker: into.breaker === 'open' || other.breaker === 'open' ? 'open' : (into.breaker ?? other.breaker),
    facts: newerFacts ? { ...into.facts, ...other.facts } : { ...other.facts, ...into.facts },
    factsAt: Math.max(into.factsAt ?? 0, other.factsAt ?? 0) || undefined,
  };
}

/** This process's records with every other process's merged in, by connection name. */
function mergedRecords(): ConnectionRecord[] {
  if (remote.size === 0) return [...connections.values()];
  const merged = new Map(connections);
  for (const shared of remote.values())
    for (const connection of shared) {
      const record = importRecord(connection);
      const existing = merged.get(record.name);
      merged.set(record.name, existing ? mergeRecord(existing, record) : record);
    }
  return [...merged.values()];
}

/**
 * Puts back this process's own figures as it last saved them (lib/health/history): a restarted
 * gateway or worker shows its last 24 hours again, not an empty model. Merged with whatever was
 * recorded since start, minute by minute.
 */
export function restoreConnections(saved: readonly SharedConnection[]): void {
  for (const connection of saved) {
    const record = importRecord(connection);
    const existing = connections.get(record.name);
    connections.set(record.name, existing ? mergeRecord(existing, record) : record);
  }
}
