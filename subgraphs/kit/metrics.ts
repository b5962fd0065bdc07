import { Counter } from '../../lib/metrics.js';

/** Counters of the subgraph kit, shared by every subgraph in a process. */
export const subgraphMetrics = {
  /** Labels: `subgraph`, `reason` (`missing` or `invalid`); never what was in the token. */
  rejectedRequests: new Counter(
    'subgraph_rejected_requests_total',
    'Requests to a subgraph refused with 401 because they carried no valid gateway token.',
  ),
  /** Labels: `subgraph`, `field` (a schema coordinate such as `Customer.email`). */
  deniedFields: new Counter(
    'subgraph_denied_fields_total',
    'Fields a subgraph answered with FORBIDDEN because the caller lacked the scopes they require.',
  ),
};
