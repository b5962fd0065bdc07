import { SYSTEM_CALLERS } from '../lib/auth/system-callers.js';

/**
 * Who is calling. Everything per client (PRIVATE response cache entries, field permissions, rate
 * limits, anomaly counters, caller tokens to subgraphs) keys on this one value.
 */
export interface ClientIdentity {
  /** Stable id of the client: a registered client id, or an access token's client. */
  id: string;
  /** Scopes the client holds, sorted. */
  scopes: readonly string[];
  /** How the identity was established. */
  via: 'anonymous' | 'api-key' | 'jwt' | 'system';
}

/** Never reaches Apollo in practice: the request gate answers unauthenticated requests with 401. */
export const ANONYMOUS: ClientIdentity = { id: 'anonymous', scopes: [], via: 'anonymous' };

/**
 * A key for "this client": how it was identified and its id, so an access token whose `client_id`
 * equals a registered client's id never shares that client's private cache entries, in-flight
 * executions, rate limit or subscription slots.
 */
export function clientKey(identity: ClientIdentity): string {
  return `${identity.via}:${identity.id}`;
}

/** A key for "what this client may see": responses are shared only between identical scope sets. */
export function scopeKey(identity: ClientIdentity): string {
  return [...identity.scopes].sort().join(' ');
}

/**
 * The gateway itself, reading the graph to process events (enrichment for routing rules). It reads
 * customer context only; every read still goes through the subgraphs' permission checks.
 */
export const EVENT_PROCESSOR: ClientIdentity = {
  id: SYSTEM_CALLERS.eventProcessor,
  scopes: ['commerce:read', 'crm:read', 'pii:read'],
  via: 'system',
};
