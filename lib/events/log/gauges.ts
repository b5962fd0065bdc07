import type { Gauge } from '../../metrics.js';
import type { EventLog } from './types.js';

/**
 * The event log's depth and lag as gauges read at scrape time, for every process that serves the
 * log's figures (the gateway, a `worker`): one definition, so their series never drift apart.
 */
export async function eventLogGauges(log: EventLog): Promise<Gauge[]> {
  const stats = await log.stats();
  return [
    {
      name: 'event_log_pending',
      help: 'Events received and not yet delivered or dead-lettered.',
      value: stats.pending,
    },
    {
      name: 'event_log_lag_seconds',
      help: 'Age of the oldest pending event: how far processing is behind.',
      value: stats.oldestPendingMs / 1000,
    },
    {
      name: 'event_log_delivered',
      help: 'Delivered events kept in the log (within retention).',
      value: stats.delivered,
    },
    {
      name: 'event_log_dead_letters',
      help: 'Events dead-lettered and not replayed.',
      value: stats.deadLetters,
    },
  ];
}
