import type { IncomingEvent } from '../lib/events/event.js';
import type { SyncEvent } from './engine.js';

/** Where sync events come from in the event log (`source`). */
export const SYNC_EVENT_SOURCE = 'syncs';

/**
 * A run's end as a canonical event (`SYNC_SUCCEEDED`, `SYNC_FAILED`, `SYNC_ROWS_REJECTED`), for
 * subscriptions, outbound webhooks and alerts. Counts only: no row, no key, no personal data. The
 * dedupe key is the run and the type, so an event emitted twice is stored once.
 */
export function syncEvent(event: SyncEvent, atMs: number): IncomingEvent {
  const at = new Date(atMs).toISOString();
  return {
    dedupeKey: `syncs:${event.sync}:${event.run}:${event.type}`,
    type: event.type,
    source: SYNC_EVENT_SOURCE,
    occurredAt: at,
    receivedAt: at,
    customer: null,
    personal: null,
    properties: {
      sync: event.sync,
      run: event.run,
      status: event.status,
      ...event.counts,
      ...(event.error ? { error: event.error } : {}),
    },
  };
}
