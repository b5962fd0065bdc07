import { recordExhausted, recordFacts } from '../lib/health/recorder.js';
import type { DeliveredEvent } from '../lib/events/event.js';
import type { Logger } from '../lib/logger.js';
import { SubscriberTooSlow, type EventHub } from './hub.js';

const NOTICES = ['WEBHOOK_ATTEMPTS_EXHAUSTED', 'WEBHOOK_ENDPOINT_DISABLED'] as const;

/** What one delivery notice tells the health model about its endpoint's connection. */
export function recordDeliveryNotice(
  event: Pick<DeliveredEvent, 'type' | 'occurredAt' | 'properties'>,
): void {
  const endpointId = event.properties['endpointId'];
  if (typeof endpointId !== 'string' || endpointId === '') return;
  const connection = { name: `endpoint:${endpointId}`, kind: 'endpoint' as const };
  if (event.type === 'WEBHOOK_ATTEMPTS_EXHAUSTED') {
    const at = Date.parse(event.occurredAt);
    recordExhausted(connection, Number.isFinite(at) ? at : Date.now());
  } else if (event.type === 'WEBHOOK_ENDPOINT_DISABLED') recordFacts(connection, { disabled: true });
}

/**
 * Feeds the health model with the deliveries' notices as they are delivered: messages that used
 * every attempt (counted per endpoint) and endpoints disabled. From the hub rather than inside the
 * dispatcher, because the hub reads every delivered event in every gateway process, so the process
 * that serves `integrations` and `/status` counts them even when the deliveries run on workers.
 */
export function followDeliveryNotices(hub: EventHub, logger: Logger): { stop(): void } {
  const controller = new AbortController();
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        for await (const event of hub.events({ types: [...NOTICES] }, undefined, controller.signal, {
          internal: true,
        }))
          recordDeliveryNotice(event);
        return; // the hub stopped
      } catch (error) {
        // A burst larger than the hub buffers: follow on from now (the figures are a window, not a ledger).
        if (!(error instanceof SubscriberTooSlow)) {
          logger.warn({ err: error }, 'following delivery notices failed; following on');
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        }
      }
    }
  })();
  return { stop: () => controller.abort() };
}
