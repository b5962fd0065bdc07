import { Counter, Histogram, type Gauge } from '../lib/metrics.js';
import type { OutboxStats } from './store/types.js';

/**
 * Delivery figures. Labelled by outcome and status only, never by endpoint: endpoint ids are
 * created by subscribers, so a label per endpoint would grow without bound. Per-endpoint health
 * is in the attempt log, readable per endpoint.
 */
export const deliveryMetrics = {
  /** `outcome`: `success`, or the error class (`status`, `timeout`, `connection`, `blocked`). */
  attempts: new Counter(
    'webhook_delivery_attempts_total',
    'Webhook delivery attempts to subscribers, by outcome.',
    ['outcome'],
  ),
  /** `status`: `succeeded`, `exhausted` or `failed`. */
  settled: new Counter(
    'webhook_messages_settled_total',
    'Webhook messages that reached a final status, by status.',
    ['status'],
  ),
  duration: new Histogram(
    'webhook_delivery_attempt_duration_seconds',
    'Time of one webhook delivery attempt, until the response or the failure, by result.',
    ['result'],
  ),
  disabled: new Counter(
    'webhook_endpoints_disabled_total',
    'Webhook endpoints disabled automatically, by reason (gone, failing).',
    ['reason'],
  ),
};

/** The outbox as scrape-time gauges (`renderPrometheus(gauges)`). */
export function outboxGauges(stats: OutboxStats): Gauge[] {
  return [
    {
      name: 'webhook_outbox_pending',
      help: 'Webhook messages waiting for an attempt or being attempted: the queue depth.',
      value: stats.pending,
    },
    {
      name: 'webhook_outbox_in_flight',
      help: 'Webhook messages being attempted now.',
      value: stats.claimed,
    },
  ];
}
