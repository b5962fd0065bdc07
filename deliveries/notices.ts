import type { IncomingEvent, JsonValue } from '../lib/events/event.js';
import type { AttemptErrorClass } from './attempt.js';
import type { DisabledReason } from './endpoint.js';

/**
 * The source of the events the deliveries raise about themselves: `DELIVERIES` in the graph's
 * `EventSource`. Like any event they are stored, routed and streamed, so monitoring can subscribe
 * to them (or an endpoint can, for operational webhooks, as Svix sends).
 */
export const NOTICE_SOURCE = 'deliveries';

/** Something about deliveries that people should hear of. */
export type DeliveryNotice =
  | {
      kind: 'attempts-exhausted';
      atMs: number;
      endpointId: string;
      messageId: string;
      eventId: string;
      eventType: string;
      attempts: number;
      lastStatusCode: number | null;
      lastErrorClass: AttemptErrorClass | null;
    }
  | {
      kind: 'endpoint-disabled';
      atMs: number;
      endpointId: string;
      /** Only the automatic reasons: an owner turning an endpoint off is not news. */
      reason: Exclude<DisabledReason, 'manual'>;
    };

/** Where notices go: the lead wires this to the event log's `append` (and a wake of the processor). */
export type NoticeSink = (events: readonly IncomingEvent[]) => Promise<void>;

/**
 * A notice as a canonical event (`WEBHOOK_ATTEMPTS_EXHAUSTED`, `WEBHOOK_ENDPOINT_DISABLED`). The
 * dedupe key names the notice and its time, so emitting one twice (after a crash between emitting
 * and forgetting it) stores it once, while a message exhausted again after a replay is news again.
 */
export function noticeEvent(notice: DeliveryNotice): IncomingEvent {
  const at = new Date(notice.atMs).toISOString();
  const common = { source: NOTICE_SOURCE, occurredAt: at, receivedAt: at, customer: null, personal: null };
  if (notice.kind === 'attempts-exhausted') {
    const properties: Record<string, JsonValue> = {
      endpointId: notice.endpointId,
      messageId: notice.messageId,
      eventId: notice.eventId,
      eventType: notice.eventType,
      attempts: notice.attempts,
      lastStatusCode: notice.lastStatusCode,
      lastErrorClass: notice.lastErrorClass,
    };
    return {
      ...common,
      dedupeKey: `deliveries:exhausted:${notice.messageId}:${notice.atMs}`,
      type: 'WEBHOOK_ATTEMPTS_EXHAUSTED',
      properties,
    };
  }
  return {
    ...common,
    dedupeKey: `deliveries:disabled:${notice.endpointId}:${notice.atMs}`,
    type: 'WEBHOOK_ENDPOINT_DISABLED',
    properties: { endpointId: notice.endpointId, reason: notice.reason },
  };
}

/** Whether `event` is a notice about `endpointId`: never delivered to that endpoint itself, lest a dead endpoint feed on its own failures. */
export function isNoticeAbout(
  event: { source: string; properties: Record<string, JsonValue> },
  endpointId: string,
): boolean {
  return event.source === NOTICE_SOURCE && event.properties['endpointId'] === endpointId;
}
