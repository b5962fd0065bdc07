import type { IncomingEvent, JsonValue } from '../../../lib/events/event.js';
import type { AlertNotice } from '../engine.js';
import { SendFailure, type AlertChannel } from './channel.js';

/** The source of alert events: `MONITORING` in the graph's `EventSource`. */
export const ALERT_EVENT_SOURCE = 'monitoring';

/** Where alert events go: the event log's `append` (and a wake of the processor). */
export type AlertEventSink = (events: readonly IncomingEvent[]) => Promise<void>;

/**
 * A notice as a canonical event (`ALERT_FIRED`, `ALERT_RESOLVED`). The dedupe key names the rule,
 * the connection, the state and when it changed, so a notice retried after a failed append is
 * stored once, while the same alert firing again later is news again.
 */
export function alertEvent(notice: AlertNotice): IncomingEvent {
  const properties: Record<string, JsonValue> = {
    rule: notice.rule,
    connection: notice.connection,
    kind: notice.kind,
    platform: notice.platform ?? null,
    severity: notice.severity,
    state: notice.state,
    firedAt: notice.firedAt,
    summary: notice.summary,
    lastError: notice.lastError
      ? { at: notice.lastError.at, code: notice.lastError.code, message: notice.lastError.message }
      : null,
  };
  return {
    dedupeKey: `monitoring:${notice.rule}:${notice.connection}:${notice.state}:${notice.at}`,
    type: notice.state === 'firing' ? 'ALERT_FIRED' : 'ALERT_RESOLVED',
    source: ALERT_EVENT_SOURCE,
    occurredAt: notice.at,
    receivedAt: notice.at,
    customer: null,
    personal: null,
    properties,
  };
}

/**
 * The events channel: each notice becomes an event in the hub's own log, so it reaches whatever
 * reads events: graphql-ws and SSE subscribers, the routing rules, and every outbound webhook
 * endpoint subscribed to `ALERT_FIRED`/`ALERT_RESOLVED` (signed, retried, with its attempts
 * recorded, as any delivery). One channel instead of one per receiver kind.
 */
export function eventsChannel(name: string, sink: AlertEventSink): AlertChannel {
  return {
    name,
    type: 'events',
    async send(notice) {
      try {
        await sink([alertEvent(notice)]);
      } catch (error) {
        throw new SendFailure(
          `the event log did not take the alert: ${error instanceof Error ? error.message : String(error)}`,
          true,
        );
      }
    },
  };
}
