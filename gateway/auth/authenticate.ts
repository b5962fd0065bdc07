import type { ClientIdentity } from '../identity.js';
import { API_KEY_PREFIX } from './api-keys.js';
import type { AccessTokenFailure, AccessTokenVerifier } from './jwt.js';
import { authMetrics } from './metrics.js';
import type { ApiKeyFailure, ClientRegistry } from './registry.js';

/** Header a server-to-server client may send its API key in, instead of `Authorization: Bearer`. */
export const API_KEY_HEADER = 'x-api-key';

/** Why a request was refused, for logs and the `auth_failures_total` counter; never sent to the client. */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'conflicting'
  | `api-key:${ApiKeyFailure}`
  | `jwt:${AccessTokenFailure}`
  | 'jwt:not-configured'
  | 'system-token'
  | 'system-token:owner-unknown';

export type Authentication =
  | { ok: true; identity: ClientIdentity }
  | {
      ok: false;
      status: 401;
      reason: AuthFailureReason;
      /** What the client is told: whether it sent no credential or one that does not work, no more. */
      message: string;
      /** The `WWW-Authenticate` header value for the 401 (RFC 6750). */
      wwwAuthenticate: string;
      /** Said in the error's extensions (`reason`), for a caller that acts on it: the gateway's own worker. */
      extensions?: Record<string, string>;
    };

/**
 * Where credentials are read from: a request's headers, or a WebSocket's `connection_init` payload
 * shaped as headers. An `IncomingMessage` is one.
 */
export interface CredentialSource {
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type Authenticator = (source: CredentialSource) => Promise<Authentication>;

export interface AuthenticatorOptions {
  /**
   * Clients and their API keys: a registry, or a holder whose `current` registry is read on every
   * request, so a reloaded file (a key revoked or added) applies from the next request.
   */
  registry: ClientRegistry | { readonly current: ClientRegistry };
  /** Verifies OAuth 2.0 / OIDC access tokens; without it every JWT is refused. @default undefined */
  accessTokens?: AccessTokenVerifier;
  /** The current time, for key expiry and revocation. @default () => new Date() */
  now?: () => Date;
}

const REALM = 'Bearer realm="marketing-graph"';
const MISSING_MESSAGE =
  'Authentication required: send an API key or an access token as `Authorization: Bearer <credential>`.';
const INVALID_MESSAGE = 'The credential is not valid: it is unknown, expired or revoked.';
const OWNER_UNKNOWN_MESSAGE = "The webhook endpoint's owner is not a registered client any more.";
const BEARER = /^Bearer +(\S+) *$/i;
/** Three base64url segments; the signature may be empty so that an unsigned token is refused as one. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
/** Far above any real key or access token; longer input is refused before any parsing. */
const MAX_CREDENTIAL_LENGTH = 8192;

export function refuse(reason: AuthFailureReason): Authentication {
  authMetrics.failures.inc({ reason });
  const badRequest = reason === 'malformed' || reason === 'conflicting';
  // Only a holder of the gateway's key gets this far: its worker, told the owner is gone so it
  // delivers the event without the enrichment instead of retrying.
  if (reason === 'system-token:owner-unknown')
    return {
      ok: false,
      status: 401,
      reason,
      message: OWNER_UNKNOWN_MESSAGE,
      wwwAuthenticate: `${REALM}, error="invalid_token"`,
      extensions: { reason: 'owner-unknown' },
    };
  return {
    ok: false,
    status: 401,
    reason,
    message: reason === 'missing' ? MISSING_MESSAGE : INVALID_MESSAGE,
    wwwAuthenticate:
      reason === 'missing' ? REALM : `${REALM}, error="${badRequest ? 'invalid_request' : 'invalid_token'}"`,
  };
}

export function accept(identity: ClientIdentity): Authentication {
  authMetrics.successes.inc({ via: identity.via });
  return { ok: true, identity };
}

/** The one credential the request carries, from `Authorization: Bearer` or `x-api-key`. */
function credentialOf(
  req: CredentialSource,
):
  | { ok: true; credential: string; from: 'bearer' | 'api-key-header' }
  | { ok: false; reason: AuthFailureReason } {
  const rawAuthorization = req.headers['authorization'];
  if (Array.isArray(rawAuthorization) && rawAuthorization.length > 1)
    return { ok: false, reason: 'conflicting' };
  const authorization: string | undefined = Array.isArray(rawAuthorization)
    ? rawAuthorization[0]
    : (rawAuthorization as string | undefined);
  const rawApiKey = req.headers[API_KEY_HEADER];
  if (Array.isArray(rawApiKey) && rawApiKey.length > 1) return { ok: false, reason: 'conflicting' };
  const apiKey = (
    Array.isArray(rawApiKey) ? (rawApiKey[0] as string | undefined) : (rawApiKey as string | undefined)
  )?.trim();
  let bearer: string | undefined;
  if (authorization !== undefined && authorization.trim() !== '') {
    bearer = BEARER.exec(authorization.trim())?.[1];
    if (bearer === undefined) return { ok: false, reason: 'malformed' };
  }
  if (bearer !== undefined && apiKey && bearer !== apiKey) return { ok: false, reason: 'conflicting' };
  if (bearer !== undefined) return { ok: true, credential: bearer, from: 'bearer' };
  if (apiKey) return { ok: true, credential: apiKey, from: 'api-key-header' };
  return { ok: false, reason: 'missing' };
}

/**
 * Identifies the caller of a request. An API key is recognised by its `mgk_` prefix, an access
 * token by the shape of a JWT; `x-api-key` carries API keys only. Every refusal is a 401 whose
 * reason stays on the server; health and metrics endpoints are for the caller of this to exempt.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? (() => new Date());
  const source = options.registry;
  const registry = 'current' in source ? () => source.current : () => source;
  return async (req) => {
    const found = credentialOf(req);
    if (!found.ok) return refuse(found.reason);
    const { credential, from } = found;
    if (credential.length > MAX_CREDENTIAL_LENGTH) return refuse('malformed');
    if (credential.startsWith(API_KEY_PREFIX)) {
      const verified = registry().verifyApiKey(credential, now());
      return verified.ok ? accept(verified.identity) : refuse(`api-key:${verified.reason}`);
    }
    if (from === 'bearer' && JWT_SHAPE.test(credential)) {
      if (!options.accessTokens) return refuse('jwt:not-configured');
      const verified = await options.accessTokens(credential);
      return verified.ok ? accept(verified.identity) : refuse(`jwt:${verified.reason}`);
    }
    return refuse('malformed');
  };
}
