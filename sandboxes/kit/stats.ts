/** Requests a sandbox served, per endpoint and status: how benchmarks count upstream calls. */
export interface EndpointStats {
  count: number;
  statuses: Record<string, number>;
}

export class SandboxStats {
  private endpoints = new Map<string, EndpointStats>();
  private since = new Date().toISOString();
  private maxConcurrent = 0;
  private concurrent = 0;

  started(): void {
    this.concurrent += 1;
    if (this.concurrent > this.maxConcurrent) this.maxConcurrent = this.concurrent;
  }

  finished(endpoint: string, status: number): void {
    this.concurrent -= 1;
    let entry = this.endpoints.get(endpoint);
    if (!entry) {
      entry = { count: 0, statuses: {} };
      this.endpoints.set(endpoint, entry);
    }
    entry.count += 1;
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
  }

  reset(): void {
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
