/** Requests a sandbox served, per endpoint and status: how benchmarks count upstream calls. */
export interface EndpointStats {
  count: number;
  statuses: Record<string, number>;
}

const MAX_ARRIVALS = 200_000;
/** Calls kept for `timeline()`: enough to trace a few operations, small enough to never matter. */
const MAX_TIMELINE = 1_000;

/** One served call: when it arrived and was answered (`performance.now()` of the sandbox's process). */
export interface TimedCall {
  endpoint: string;
  status: number;
  startedAt: number;
  finishedAt: number;
}

export class SandboxStats {
  private endpoints = new Map<string, EndpointStats>();
  /** Arrival times of recent requests, to measure the peak rate a client produced. */
  private arrivals: number[] = [];
  private since = new Date().toISOString();
  private maxConcurrent = 0;
  private concurrent = 0;
  private calls: TimedCall[] = [];

  /** Returns the arrival instant, for `finished` to place the call on the timeline. */
  started(): number {
    if (this.arrivals.length >= MAX_ARRIVALS) this.arrivals = this.arrivals.slice(MAX_ARRIVALS / 2);
    this.arrivals.push(Date.now());
    this.concurrent += 1;
    if (this.concurrent > this.maxConcurrent) this.maxConcurrent = this.concurrent;
    return performance.now();
  }

  finished(endpoint: string, status: number, startedAt?: number): void {
    this.concurrent -= 1;
    if (startedAt !== undefined) {
      if (this.calls.length >= MAX_TIMELINE) this.calls = this.calls.slice(MAX_TIMELINE / 2);
      this.calls.push({ endpoint, status, startedAt, finishedAt: performance.now() });
    }
    let entry = this.endpoints.get(endpoint);
    if (!entry) {
      entry = { count: 0, statuses: {} };
      this.endpoints.set(endpoint, entry);
    }
    entry.count += 1;
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
  }

  /** Most requests that arrived within any `windowMs` since the last reset. */
  peakInWindow(windowMs: number): number {
    let peak = 0;
    let start = 0;
    for (let end = 0; end < this.arrivals.length; end++) {
      while ((this.arrivals[end] as number) - (this.arrivals[start] as number) >= windowMs) start++;
      peak = Math.max(peak, end - start + 1);
    }
    return peak;
  }

  /**
   * The calls answered since the last reset, in the order they were answered (the latest 500 to
   * 1,000): which calls one operation made, and which ran one after another (bench:marketing).
   */
  timeline(): readonly TimedCall[] {
    return this.calls;
  }

  reset(): void {
    this.calls = [];
    this.arrivals = [];
    this.endpoints = new Map();
    this.since = new Date().toISOString();
    this.maxConcurrent = this.concurrent;
  }

  snapshot(): {
    since: string;
    total: number;
    maxConcurrent: number;
    endpoints: Record<string, EndpointStats>;
  } {
    const endpoints = Object.fromEntries([...this.endpoints].sort(([a], [b]) => a.localeCompare(b)));
    const total = [...this.endpoints.values()].reduce((sum, e) => sum + e.count, 0);
    return { since: this.since, total, maxConcurrent: this.maxConcurrent, endpoints };
  }
}
