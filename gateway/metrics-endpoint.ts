import type { IncomingMessage, ServerResponse } from 'node:http';
import { eventLogGauges } from '../lib/events/log/gauges.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Gauge } from '../lib/metrics.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../lib/request-context.js';
import { sendMetrics } from '../lib/server/metrics-endpoint.js';
import type { CredentialSource } from './auth/authenticate.js';
import type { Refusal } from './pipeline/types.js';
import { sendRefusal } from './transports/http.js';

export const METRICS_SCOPE = 'metrics:read';

/**
 * `GET /metrics`: every metric of the process (prom-client's registry: counters, histograms in
 * seconds, process and event-loop figures) in the Prometheus text format, with the event log's
 * queue depth and lag read at scrape time. A scraper authenticates like any client (an API key or
 * token with `metrics:read`): the figures name clients and reveal traffic.
 */
export function createMetricsEndpoint(options: {
  /** The request pipeline's gate for endpoints: credentials, rate limit, `metrics:read`. */
  admit(source: CredentialSource): Promise<{ ok: true } | { ok: false; refusal: Refusal }>;
  log: EventLog;
  subscribers: () => number;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const admitted = await options.admit(req);
    if (!admitted.ok) {
      sendRefusal(res, admitted.refusal, requestIdFrom(req.headers[REQUEST_ID_HEADER]));
      return;
    }
    const gauges: Gauge[] = [
      ...(await eventLogGauges(options.log)),
      {
        name: 'subscriptions_active',
        help: 'Subscriptions open on this instance.',
        value: options.subscribers(),
      },
    ];
    await sendMetrics(res, gauges);
  };
}
