/**
 * In-process counters and histograms. Cheap enough for the hot path (a Map lookup per sample);
 * the monitoring work exports them. Labels are a small fixed set per metric, never user input.
 */

type Labels = Record<string, string | number | boolean>;

function keyOf(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`)
    .join(',');
}

/** Every counter and histogram of the process, in creation order, for `/metrics`. */
const registry: (Counter | Histogram)[] = [];

export class Counter {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {
    registry.push(this);
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }

  /** Sum over every series whose labels include `match`. */
  sum(match: Labels = {}): number {
    let total = 0;
    for (const { labels, value } of this.values.values()) {
      if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += value;
    }
    return total;
  }

  reset(): void {
    this.values.clear();
  }
}

/** Fixed-bucket histogram (milliseconds); enough for p50/p99 estimates and Prometheus export. */
export class Histogram {
  static readonly DEFAULT_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
  readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = Histogram.DEFAULT_BUCKETS,
  ) {
    registry.push(this);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = keyOf(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] ?? Infinity)) i++;
    entry.counts[i] = (entry.counts[i] ?? 0) + 1;
    entry.sum += value;
    entry.count += 1;
  }

  reset(): void {
    this.series.clear();
  }
}

/** A value read at scrape time (queue depth, lag), with its labels. */
export interface Gauge {
  name: string;
  help: string;
  value: number;
  labels?: Labels;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const keys = Object.keys(all);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(String(all[k]))}"`).join(',')}}`;
}

/** Every metric of the process in the Prometheus text format (version 0.0.4), plus `gauges`. */
export function renderPrometheus(gauges: readonly Gauge[] = []): string {
  const lines: string[] = [];
  for (const metric of registry) {
    if (metric instanceof Counter) {
      lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} counter`);
      for (const { labels, value } of metric.values.values())
        lines.push(`${metric.name}${labelText(labels)} ${value}`);
      continue;
    }
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} histogram`);
    for (const { labels, counts, sum, count } of metric.series.values()) {
      let cumulative = 0;
      metric.buckets.forEach((bound, i) => {
        cumulative += counts[i] ?? 0;
        lines.push(`${metric.name}_bucket${labelText(labels, { le: bound })} ${cumulative}`);
      });
      lines.push(`${metric.name}_bucket${labelText(labels, { le: '+Inf' })} ${count}`);
      lines.push(
        `${metric.name}_sum${labelText(labels)} ${sum}`,
        `${metric.name}_count${labelText(labels)} ${count}`,
      );
    }
  }
  for (const gauge of gauges) {
    lines.push(
      `# HELP ${gauge.name} ${gauge.help}`,
      `# TYPE ${gauge.name} gauge`,
      `${gauge.name}${labelText(gauge.labels ?? {})} ${gauge.value}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
