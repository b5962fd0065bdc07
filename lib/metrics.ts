import client from 'prom-client';

/**
 * The process's metrics, on prom-client. One registry per process: the gateway, a subgraph or a
 * sandbox run alone each export their own at `/metrics`; `npm start` runs them all in one process,
 * so the gateway's `/metrics` has everything. Labels are a small fixed set per metric, declared up
 * front (prom-client refuses an undeclared one), never user input.
 */
export const registry = new client.Registry();

// Process and runtime figures (CPU seconds, memory, handles, GC, `nodejs_eventloop_lag_seconds`),
// read at scrape time; they are what tells an overloaded process from a slow platform.
client.collectDefaultMetrics({ register: registry });

/** The `Content-Type` of `renderPrometheus`'s text (the Prometheus text format 0.0.4). */
export const METRICS_CONTENT_TYPE = registry.contentType;

type LabelValue = string | number;
/** The labels of one series; a metric that declared none takes none (a type error, not a throw at run time). */
export type Labels<L extends string> = [L] extends [never]
  ? Record<string, never>
  : Partial<Record<L, LabelValue>>;

/** Whether a series' labels are exactly `labels` (every one given, none more). */
function sameLabels(series: Record<string, unknown>, labels: Partial<Record<string, LabelValue>>): boolean {
  const keys = Object.keys(labels).filter((k) => labels[k] !== undefined);
  const own = Object.keys(series).filter((k) => series[k] !== undefined);
  return own.length === keys.length && keys.every((k) => String(series[k]) === String(labels[k]));
}

/**
 * A prom-client counter with the calls the code makes: `inc(labels, by)`, and reads for tests and
 * the few places that look at a count (reads are async: prom-client collects before it answers).
 */
export class Counter<L extends string = never> {
  readonly metric: client.Counter<L>;
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    this.metric = new client.Counter({ name, help, labelNames, registers: [registry] });
  }

  inc(labels: Labels<L> = {}, by = 1): void {
    this.metric.inc(labels as client.LabelValues<L>, by);
  }

  /** The count of the series with exactly these labels; 0 when it was never incremented. */
  async get(labels: Labels<L> = {}): Promise<number> {
    const { values } = await this.metric.get();
    return values.find((v) => sameLabels(v.labels, labels))?.value ?? 0;
  }

  /** Sum over every series whose labels include `match`. */
  async sum(match: Labels<L> = {}): Promise<number> {
    const { values } = await this.metric.get();
    const wanted = Object.entries(match) as [string, LabelValue][];
    return values
      .filter((v) => wanted.every(([k, want]) => String(v.labels[k as L]) === String(want)))
      .reduce((total, v) => total + v.value, 0);
  }

  reset(): void {
    this.metric.reset();
  }
}

/**
 * A histogram of durations in seconds (Prometheus's base unit): from 1 ms to 30 s, fine enough for
 * p50/p99 estimates of a platform call or a webhook acknowledgement.
 */
export class Histogram<L extends string = never> {
  static readonly DEFAULT_BUCKETS: readonly number[] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
  ];
  readonly metric: client.Histogram<L>;
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = Histogram.DEFAULT_BUCKETS,
  ) {
    this.metric = new client.Histogram({
      name,
      help,
      labelNames,
      buckets: [...buckets],
      registers: [registry],
    });
  }

  /** Records one duration, in seconds. */
  observe(seconds: number, labels: Labels<L> = {}): void {
    this.metric.observe(labels as client.LabelValues<L>, seconds);
  }

  reset(): void {
    this.metric.reset();
  }
}

/** A value read at scrape time (queue depth, lag), with its labels. */
export interface Gauge {
  name: string;
  help: string;
  value: number;
  labels?: Record<string, LabelValue>;
}

/**
 * Every metric of the process in the Prometheus text format (version 0.0.4), plus `gauges`, which
 * belong to one server (its event log, its subscribers) rather than to the process, so they are
 * read when scraped instead of registered once.
 */
export async function renderPrometheus(gauges: readonly Gauge[] = []): Promise<string> {
  if (gauges.length === 0) return registry.metrics();
  const scraped = new client.Registry();
  for (const gauge of gauges) {
    const labels = gauge.labels ?? {};
    new client.Gauge({
      name: gauge.name,
      help: gauge.help,
      labelNames: Object.keys(labels),
      registers: [scraped],
    }).set(labels, gauge.value);
  }
  // merge refuses a name both hold, so a scrape-time gauge cannot shadow a registered metric.
  return client.Registry.merge([registry, scraped]).metrics();
}
