import type { IncomingMessage } from 'node:http';

/**
 * Who is calling. Everything per client (PRIVATE response cache entries, and later permissions,
 * rate limits and anomaly counters) keys on this one value.
 */
export interface ClientIdentity {
  /** Stable id of the client: a registered client id, a token subject, or `anonymous`. */
  id: string;
  /** Scopes the client holds, sorted; empty until credentials are checked. */
  scopes: readonly string[];
  /** How the identity was established. */
  via: 'anonymous' | 'header' | 'api-key' | 'jwt';
}

export const ANONYMOUS: ClientIdentity = { id: 'anonymous', scopes: [], via: 'anonymous' };

/** Header a trusted caller may use to say who it is, until credentials identify callers. */
export const CLIENT_ID_HEADER = 'x-client-id';
const CLIENT_ID = /^[\w.:@-]{1,128}$/;

/** Identifies the caller from the request (until API keys and tokens: the client-id header). */
export function identifyFromHeader(req: IncomingMessage): ClientIdentity {
  const raw = req.headers[CLIENT_ID_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && CLIENT_ID.test(value) ? { id: value, scopes: [], via: 'header' } : ANONYMOUS;
}

/** A key for "what this client may see": responses are shared only between identical scope sets. */
export function scopeKey(identity: ClientIdentity): string {
  return [...identity.scopes].sort().join(' ');
}
