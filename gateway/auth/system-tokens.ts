import type { JSONWebKeySet } from 'jose';
import { createGatewayTokenVerifier, GATEWAY_ISSUER } from '../../lib/auth/gateway-token.js';
import { GATEWAY_AUDIENCE, SYSTEM_CALLERS } from '../../lib/auth/system-callers.js';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { EVENT_PROCESSOR } from '../identity.js';
import { accept, refuse, type Authenticator, type CredentialSource } from './authenticate.js';

const BEARER = /^Bearer +([\w-]+\.([\w-]+)\.[\w-]+) *$/i;
/** Token ids remembered against replay; a token lives 30 s, far fewer are live at once. */
const REMEMBERED_TOKEN_IDS = 100_000;

/** The `iss` claim of a compact JWS, read without verifying: only to choose the verifier. */
function issuerOf(payloadSegment: string): unknown {
  try {
    return (JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    return undefined;
  }
}

/**
 * Lets the gateway's own background work call it from elsewhere: a `worker` process reads the
 * graph as the event processor with a caller token signed with the gateway's key
 * (GATEWAY_TOKEN_PRIVATE_JWK, which the worker holds to tell subgraphs about invalidations), with
 * the gateway as audience. Such a token identifies the event processor and nothing else: its
 * scopes are the gateway's (EVENT_PROCESSOR), never the token's, and each token is accepted once.
 * Every other credential goes to `clients` (API keys, OIDC access tokens) unchanged.
 */
export function withSystemCallers(clients: Authenticator, jwks: JSONWebKeySet): Authenticator {
  const verify = createGatewayTokenVerifier({ jwks, audience: GATEWAY_AUDIENCE });
  const seen = new BoundedMap<string, number>(REMEMBERED_TOKEN_IDS);
  return async (source: CredentialSource) => {
    const header = source.headers['authorization'];
    const match = typeof header === 'string' ? BEARER.exec(header.trim()) : null;
    if (
      !match ||
      issuerOf(match[2] as string) !== GATEWAY_ISSUER ||
      source.headers['x-api-key'] !== undefined
    )
      return clients(source);
    try {
      const token = await verify(match[1] as string);
      if (token.caller.clientId !== SYSTEM_CALLERS.eventProcessor) return refuse('system-token');
      const nowSeconds = Date.now() / 1000;
      const until = seen.get(token.tokenId);
      if (until !== undefined && until >= nowSeconds) return refuse('system-token');
      seen.set(token.tokenId, token.expiresAt);
      return accept(EVENT_PROCESSOR);
    } catch {
      return refuse('system-token');
    }
  };
}
