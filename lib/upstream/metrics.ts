import { Counter, Histogram } from '../metrics.js';

/** Counters for every upstream call, shared by all connectors in a process. */
export const upstreamMetrics = {
  calls: new Counter('upstream_calls_total', 'Upstream HTTP calls by platform, endpoint and status.', [
    'platform',
    'endpoint',
    'status',
  ]),
  retries: new Counter('upstream_retries_total', 'Upstream calls repeated after a retryable failure.', [
    'platform',
    'endpoint',
  ]),
  latencySeconds: new Histogram(
    'upstream_latency_seconds',
    'Time from sending an upstream call to its full answer.',
    ['platform', 'endpoint'],
  ),
  queuedSeconds: new Histogram('upstream_queued_seconds', 'Time an upstream call waited for the throttle.', [
    'platform',
    'endpoint',
  ]),
};
