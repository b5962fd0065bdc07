import { Counter } from '../metrics.js';

/** Cache counters shared by every cache in a process. */
export const cacheMetrics = {
  hits: new Counter('cache_hits_total', 'Record cache hits by platform and record type.', [
    'platform',
    'type',
  ]),
  misses: new Counter('cache_misses_total', 'Record cache misses by platform and record type.', [
    'platform',
    'type',
  ]),
  errors: new Counter(
    'cache_errors_total',
    'Cache operations that failed or timed out and were treated as misses.',
    ['store', 'operation'],
  ),
};
