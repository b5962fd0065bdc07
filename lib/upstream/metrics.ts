import { Counter, Histogram } from '../metrics.js';

/** Counters for every upstream call, shared by all connectors in a process. */
export const upstreamMetrics = {
  calls: new Counter('upstream_calls_total', 'Upstream HTTP calls by platform, endpoint and status.'),
  retries: new Counter('upstream_retries_total', 'Upstream calls repeated after a retryable failure.'),
  latencyMs: new Histogram('upstream_latency_ms', 'Time from sending an upstream call to its full answer.'),
  queuedMs: new Histogram('upstream_queued_ms', 'Time an upstream call waited for the throttle.'),
};
