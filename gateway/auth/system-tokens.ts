import type { JSONWebKeySet } from 'jose';
import { createGatewayTokenVerifier, GATEWAY_ISSUER } from '../../lib/auth/gateway-token.js';
import { GATEWAY_AUDIENCE, SYSTEM_CALLERS } from '../../lib/auth/system-callers.js';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { EVENT_PROCESSOR, type ClientIdentity } from '../identity.js';
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
 * Lets the gateway's own background work call it from elsewhere, with caller tokens signed with
 * the gateway's key (GATEWAY_TOKEN_PRIVATE_JWK, which a `worker` holds to tell subgraphs about
 * invalidations) and the gateway as audience, each accepted once:
 * - the event processor (routing context): its scopes are the gateway's (EVENT_PROCESSOR), never
 *   the token's;
 * - a webhook's enrichment, read as the endpoint's owner named in the token (`obo`): the scopes
 *   are that registered client's as the registry has them now (`owner`), never the token's; an
 *   owner no longer registered is refused with `owner-unknown` in the error.
 * Every other credential goes to `clients` (API keys, OIDC access tokens) unchanged.
 */
export function withSystemCallers(
  clients: Authenticator,
  jwks: JSONWebKeySet,
  /** A registered client by id, with its current scopes. @default none: enrichment reads are refused */
  owner: (clientId: string) => ClientIdentity | undefined = () => undefined,
): Authenticator {
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
      const { clientId } = token.caller;
      if (clientId !== SYSTEM_CALLERS.eventProcessor && clientId !== SYSTEM_CALLERS.webhookEnrichment)
        return refuse('system-token');
      const nowSeconds = Date.now() / 1000;
      const until = seen.get(token.tokenId);
      if (until !== undefined && until >= nowSeconds) return refuse('system-token');
      seen.set(token.tokenId, token.expiresAt);
      if (clientId === SYSTEM_CALLERS.eventProcessor) return accept(EVENT_PROCESSOR);
      if (token.onBehalfOf === undefined) return refuse('system-token');
      const registered = owner(token.onBehalfOf);
      if (!registered) return refuse('system-token:owner-unknown');
      // The gateway's own work (its rate limit, debug logs), with exactly the owner's permissions.
      return accept({ id: registered.id, scopes: registered.scopes, via: 'system' });
    } catch {
      return refuse('system-token');
    }
  };
}
