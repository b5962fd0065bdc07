import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { createGatewayTokenVerifier, parsePublicJwks, type Caller } from '../../lib/auth/gateway-token.js';
import { ConfigError } from '../../lib/config/env.js';
import { ErrorCode } from '../../lib/errors.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import { sendGraphQLError } from '../../lib/server/graphql-http.js';
import { subgraphMetrics } from './metrics.js';

/** How a subgraph checks the gateway token on every `/graphql` request. */
export interface SubgraphAuth {
  /** The gateway's public keys; list the old and the new key while the gateway's key rotates. */
  jwks: JSONWebKeySet;
  /**
   * Field permissions (graphql-shield). Only the permission benchmark turns them off, to measure
   * what they cost; the gateway token is checked either way. @default true
   */
  fieldPermissions?: boolean;
}

/** The same sentence whatever was wrong, so a probe learns nothing about what to fix. */
export const GATEWAY_ONLY_MESSAGE = 'This subgraph accepts requests from the gateway only.';

const BEARER = /^Bearer ([\w.~+/-]+=*)$/i;

/**
 * Verifies `Authorization: Bearer <gateway token>` for this subgraph's audience. Resolves the
 * caller, or null after answering 401 itself (counted, and logged with jose's reason for the
 * operator; the caller gets no hint).
 */
export function createGatewayAuthenticator(
  subgraph: SubgraphName,
  auth: SubgraphAuth,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => Promise<Caller | null> {
  const verify = createGatewayTokenVerifier({ jwks: auth.jwks, audience: subgraph });
  const refuse = (res: ServerResponse, reason: 'missing' | 'invalid', detail: string) => {
    subgraphMetrics.rejectedRequests.inc({ subgraph, reason });
    logger.warn({ reason, detail }, 'request without a valid gateway token refused');
    sendGraphQLError(res, 401, GATEWAY_ONLY_MESSAGE, ErrorCode.UNAUTHENTICATED, {
      'www-authenticate': 'Bearer',
    });
  };
  return async (req, res) => {
    const header = req.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) {
      refuse(res, 'missing', header ? 'not a Bearer token' : 'no Authorization header');
      return null;
    }
    try {
      return await verify(token);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unverifiable';
      refuse(res, 'invalid', code);
      return null;
    }
  };
}

/**
 * `GATEWAY_TOKEN_JWKS` for a subgraph's `*ConfigFromEnv`: required, because a subgraph never runs
 * open; a missing or malformed value stops start-up like any other bad variable (exit code 2).
 */
export function gatewayAuthFromEnv(value: string | undefined): SubgraphAuth {
  if (value === undefined) {
    throw new ConfigError([
      'GATEWAY_TOKEN_JWKS: required, expected the JSON Web Key Set of the gateway token keys',
    ]);
  }
  let jwks: JSONWebKeySet;
  try {
    jwks = parsePublicJwks(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^GATEWAY_TOKEN_JWKS /, '') : 'unreadable';
    throw new ConfigError([`GATEWAY_TOKEN_JWKS: ${reason}`]);
  }
  // Only the gateway may hold the signing key; a subgraph given it could mint tokens for the others.
  if (jwks.keys.some((key) => 'd' in key)) {
    throw new ConfigError([
      'GATEWAY_TOKEN_JWKS: holds a private key (a "d" member); give subgraphs the public keys only',
    ]);
  }
  return { jwks };
}
