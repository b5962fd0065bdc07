import { EVENT_PROCESSOR_SCOPES, SYSTEM_CALLERS } from '../lib/auth/system-callers.js';

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

/** Whoever sent a credential that identifies no one: failed authentications are counted under it. */
export const UNIDENTIFIED: ClientIdentity = { id: 'unidentified', scopes: [], via: 'anonymous' };

/**
 * A key for "this client": how it was identified and its id, so an access token whose `client_id`
 * equals a registered client's id never shares that client's private cache entries, in-flight
 * executions, rate limit or subscription slots.
 */
export function clientKey(identity: ClientIdentity): string {
  let key = clientKeys.get(identity);
  if (key === undefined) {
    key = `${identity.via}:${identity.id}`;
    clientKeys.set(identity, key);
  }
  return key;
}

/** A key for "what this client may see": responses are shared only between identical scope sets. */
export function scopeKey(identity: ClientIdentity): string {
  let key = scopeKeys.get(identity.scopes);
  if (key === undefined) {
    key = [...identity.scopes].sort().join(' ');
    scopeKeys.set(identity.scopes, key);
  }
  return key;
}

/*
 * Both keys are asked for several times per operation (rate limit, permission plans, coalescing,
 * response cache), and a registered client's identity, scopes included, is one object for the
 * registry's life: remembered per object (held weakly), each key is built once instead of a new
 * string, and a sorted copy of the scopes, per call (issue 17, target 2: allocation per request).
 * Identities are never mutated once made (a registry reload makes new ones).
 */
const clientKeys = new WeakMap<ClientIdentity, string>();
const scopeKeys = new WeakMap<readonly string[], string>();

/**
 * The gateway itself, reading the graph to process events (enrichment for routing rules). It reads
 * customer context only; every read still goes through the subgraphs' permission checks.
 */
export const EVENT_PROCESSOR: ClientIdentity = {
  id: SYSTEM_CALLERS.eventProcessor,
  scopes: EVENT_PROCESSOR_SCOPES,
  via: 'system',
};

/** OIDC clients named in metric labels before the rest are counted together as `oidc:other`. */
export const MAX_OIDC_CLIENT_LABELS = 100;
/** Longer `client_id`s are cut in labels (the log line keeps them whole). */
const MAX_LABEL_LENGTH = 64;
export const OTHER_OIDC_CLIENT_LABEL = 'oidc:other';

/**
 * The first OIDC client ids seen by this process. Metric series live as long as the process and
 * an access token's `client_id` is whatever its issuer put there, so the set is bounded: enough
 * for the user-context apps an organisation registers, never one series per token.
 */
const oidcLabels = new Set<string>();

/**
 * The `client` label of a metric. Registered clients (API keys) are named by id: the operator
 * controls the registry, so the set is bounded. Access-token clients are `oidc:<client_id>` for the
 * first MAX_OIDC_CLIENT_LABELS ids and `oidc:other` after that. Logs keep the real id.
 */
export function clientLabel(identity: ClientIdentity): string {
  if (identity.via !== 'jwt') return identity.id;
  const id = identity.id.slice(0, MAX_LABEL_LENGTH);
  if (oidcLabels.has(id)) return `oidc:${id}`;
  if (oidcLabels.size >= MAX_OIDC_CLIENT_LABELS) return OTHER_OIDC_CLIENT_LABEL;
  oidcLabels.add(id);
  return `oidc:${id}`;
}
