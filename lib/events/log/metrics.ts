import { Counter } from '../../metrics.js';

/**
 * The event log's metrics, registered whichever log is configured (this module loads with
 * open.ts, not with the Redis log's code), so `/metrics` lists the same names in every mode.
 */
export const redisLogMetrics = {
  resets: new Counter(
    'event_log_resets_total',
    'Times this instance found the Redis event log emptied (Redis restarted without persistence): everything it held before was lost.',
  ),
};
