import { Counter } from '../../lib/metrics.js';

/** Authentication counters for the whole gateway process; the anomaly signals read the failures. */
export const authMetrics = {
  failures: new Counter(
    'auth_failures_total',
    'Requests refused with 401, by reason (missing, malformed, api-key:expired, jwt:audience, ...).',
    ['reason'],
  ),
  successes: new Counter(
    'auth_successes_total',
    'Requests whose caller was identified, by how (api-key, jwt).',
    ['via'],
  ),
};
