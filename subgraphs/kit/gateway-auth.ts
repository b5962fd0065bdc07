import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import {
  bodyHash,
  createGatewayTokenVerifier,
  parsePublicJwks,
  type VerifiedGatewayToken,
} from '../../lib/auth/gateway-token.js';
import { ConfigError } from '../../lib/config/env.js';
import { ErrorCode } from '../../lib/errors.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import { sendGraphQLError, type EarlyResponse } from '../../lib/server/graphql-http.js';
import { subgraphMetrics } from './metrics.js';
import { ReplayCache } from './replay-cache.js';

/** How a subgraph checks the gateway token on every `/graphql` request. */
export interface SubgraphAuth {
  /** The gateway's public keys; list the old and the new key while the gateway's key rotates. */
  jwks: JSONWebKeySet;
  /**
   * Field permissions (graphql-shield). Only the permission benchmark turns them off, to measure
   * what they cost; the gateway token is checked either way. @default true
   */
  fieldPermissions?: boolean;
  /** The token ids this process has accepted (one per process; tests give their own). */
  replays?: ReplayCache;
  /**
   * The bearer token a scraper sends for `/metrics` (`METRICS_TOKEN`); unset, `/metrics` refuses
   * everyone. Not a gateway token: those are single-use and bound to one call, which a scraper cannot mint.
   */
  metricsToken?: string;
}

/** The same sentence whatever was wrong, so a probe learns nothing about what to fix. */
export const GATEWAY_ONLY_MESSAGE = 'This subgraph accepts requests from the gateway only.';

const BEARER = /^Bearer ([\w.~+/-]+=*)$/i;

export type RefusalReason = 'missing' | 'invalid' | 'replayed' | 'unbound';

/** What the kit needs to refuse a request that carried no usable gateway token. */
export interface GatewayAuthenticator {
  /**
   * Verifies `Authorization: Bearer <gateway token>` for this subgraph's audience and accepts its
   * `jti` once. Resolves the verified token, or null after answering itself: 401 (counted, and
   * logged with the reason for the operator; the caller gets no hint), or 429 when the replay
   * cache is full of live tokens.
   */
  authenticate(req: IncomingMessage, res: ServerResponse): Promise<VerifiedGatewayToken | null>;
  /**
   * Whether `body` is the one the token was signed for (its `bh` claim). The gateway binds every
   * token it sends with a body; a token without `bh` is bound to none.
   */
  bound(token: VerifiedGatewayToken, body: Uint8Array | string | undefined): boolean;
  /** Counts and logs a refusal, and returns the 401 to answer through the caller's own response path. */
  refusal(reason: RefusalReason, detail: string): EarlyResponse;
}

export function createGatewayAuthenticator(
  subgraph: SubgraphName,
  auth: SubgraphAuth,
  logger: Logger,
): GatewayAuthenticator {
  const verify = createGatewayTokenVerifier({ jwks: auth.jwks, audience: subgraph });
  const replays = auth.replays ?? new ReplayCache();
  const record = (reason: RefusalReason, detail: string) => {
    subgraphMetrics.rejectedRequests.inc({ subgraph, reason });
    logger.warn({ reason, detail }, 'request without a valid gateway token refused');
  };
  const refuse = (res: ServerResponse, reason: RefusalReason, detail: string) => {
    record(reason, detail);
    sendGraphQLError(res, 401, GATEWAY_ONLY_MESSAGE, ErrorCode.UNAUTHENTICATED, {
      'www-authenticate': 'Bearer',
    });
  };
  return {
    async authenticate(req, res) {
      const header = req.headers.authorization;
      const token = header ? BEARER.exec(header)?.[1] : undefined;
      if (!token) {
        refuse(res, 'missing', header ? 'not a Bearer token' : 'no Authorization header');
        return null;
      }
      let verified: VerifiedGatewayToken;
      try {
        verified = await verify(token);
      } catch (error) {
        const code = error instanceof Error && 'code' in error ? String(error.code) : 'unverifiable';
        refuse(res, 'invalid', code);
        return null;
      }
      const verdict = replays.claim(verified.tokenId, verified.expiresAt);
      if (verdict.kind === 'replayed') {
        refuse(res, 'replayed', 'a token id this subgraph already accepted');
        return null;
      }
      if (verdict.kind === 'full') {
        subgraphMetrics.rejectedRequests.inc({ subgraph, reason: 'replay-cache-full' });
        logger.warn({ capacity: replays.capacity }, 'replay cache full of live gateway tokens');
        sendGraphQLError(
          res,
          429,
          'This subgraph is at the most gateway requests it can tell apart; retry shortly.',
          ErrorCode.RATE_LIMITED,
          { 'retry-after': String(verdict.retryAfterSeconds) },
        );
        return null;
      }
      return verified;
    },
    bound(token, body) {
      return token.bodyHash === undefined || (body !== undefined && bodyHash(body) === token.bodyHash);
    },
    refusal(reason, detail) {
      record(reason, detail);
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer' },
        body: {
          errors: [{ message: GATEWAY_ONLY_MESSAGE, extensions: { code: ErrorCode.UNAUTHENTICATED } }],
        },
      };
    },
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
