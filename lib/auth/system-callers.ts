/**
 * The client ids the gateway calls subgraphs as when it reads for itself (routing context for an
 * event, a subscriber's customer fields, health probes) rather than for a client. Their operations
 * are the process's own background work, so they log at debug, not info: with the demo's webhooks
 * they would otherwise be most of what `npm start` prints.
 */
export const SYSTEM_CALLERS = {
  eventProcessor: 'gateway-event-processor',
  health: 'gateway-health',
  /**
   * A `worker` reading a webhook endpoint's selection (its enrichment): its token names the
   * endpoint's owner (`obo`), and the gateway reads with that registered client's scopes.
   */
  webhookEnrichment: 'gateway-webhook-enrichment',
} as const;

/**
 * What the event processor may read: customer context for routing rules. The gateway grants these
 * to the processor whether it runs in the gateway or in a `worker` process; a worker names itself
 * in its token, the gateway decides its scopes.
 */
export const EVENT_PROCESSOR_SCOPES: readonly string[] = ['commerce:read', 'crm:read', 'pii:read'];

/** The audience of the caller tokens a `worker` sends a gateway (subgraphs are their own name). */
export const GATEWAY_AUDIENCE = 'gateway';

const SYSTEM_CALLER_IDS: ReadonlySet<string> = new Set(Object.values(SYSTEM_CALLERS));

export function isSystemCaller(clientId: string): boolean {
  return SYSTEM_CALLER_IDS.has(clientId);
}
