import { Counter } from '../../lib/metrics.js';

/**
 * What a sandbox did, for `/metrics`: the platform API requests it answered, the 429s among them
 * and why, and the faults it injected. Labelled by the route's endpoint template
 * (`GET /crm/v3/objects/contacts/{contactId}`), never the request's path, so the series stay a
 * bounded set whatever clients send. Admin calls (`/__sandbox/*`) and `/metrics` are not counted.
 */
export const sandboxMetrics = {
  requests: new Counter(
    'sandbox_requests_total',
    'Platform API requests a sandbox answered, by platform, endpoint and status.',
    ['platform', 'endpoint', 'status'],
  ),
  rateLimited: new Counter(
    'sandbox_rate_limited_total',
    '429s a sandbox sent, by platform, endpoint and cause: its platform limit (limit), an injected fault (fault) or the route itself (route).',
    ['platform', 'endpoint', 'cause'],
  ),
  faults: new Counter(
    'sandbox_faults_injected_total',
    'Faults a sandbox injected, by platform, endpoint and kind (error, rateLimit, malformed, latency).',
    ['platform', 'endpoint', 'kind'],
  ),
};
