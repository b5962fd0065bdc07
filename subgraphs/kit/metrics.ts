import { Counter } from '../../lib/metrics.js';

/** Counters of the subgraph kit, shared by every subgraph in a process. */
export const subgraphMetrics = {
  /** Labels: `subgraph`, `reason` (`missing`, `invalid`, `replayed`, `unbound`, `replay-cache-full`); never what was in the token. */
  rejectedRequests: new Counter(
    'subgraph_rejected_requests_total',
    'Requests to a subgraph refused: no valid gateway token, a replayed one, one bound to another body (401), or a full replay cache (429).',
    ['subgraph', 'reason'],
  ),
  /** Labels: `subgraph`, `field` (a schema coordinate such as `Customer.email`). */
  deniedFields: new Counter(
    'subgraph_denied_fields_total',
    'Fields a subgraph answered with FORBIDDEN because the caller lacked the scopes they require.',
    ['subgraph', 'field'],
  ),
};
