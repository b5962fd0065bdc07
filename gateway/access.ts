import type { JWK } from 'jose';
import { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import type { CacheStore } from '../lib/cache/store.js';
import type { Logger } from '../lib/logger.js';
import { AnomalyDetector } from './auth/anomaly.js';
import type { Authenticator } from './auth/authenticate.js';
import type { AuthConfig } from './auth/config.js';
import { OperationGate } from './auth/operation-gate.js';
import type { AccessPolicy } from './auth/policy.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimit } from './auth/rate-limit.js';
import { setUpAuthentication } from './auth/setup.js';
import { RequestGate } from './request-gate.js';

export interface AccessConfig {
  auth: AuthConfig;
  /** `filter` (default) removes denied fields; `strict` refuses the operation. */
  authorizationMode?: 'filter' | 'strict';
  /** Private key the gateway signs its caller tokens to subgraphs with. */
  gatewayTokenKey: JWK;
  /** Field permissions at the gateway; only the permission benchmark turns them off. @default true */
  fieldPermissions?: boolean;
  /** Allowance of callers with an access token (registered clients have their own). @default 600/min, burst 60 */
  tokenClientRateLimit?: RateLimit;
}

export interface AccessControl {
  /** Who is calling, for transports that authenticate once per connection (WebSocket, SSE). */
  authenticate: Authenticator;
  gate: RequestGate;
  operations: OperationGate;
  signer: GatewayTokenSigner;
}

/**
 * The gateway's least-privilege machinery in one place: credentials (API keys, access tokens),
 * per-client rate limits (shared through Redis when the cache is), usage anomalies, field
 * permissions read from the supergraph, and the signer of caller tokens for subgraphs.
 */
export function createAccessControl(options: {
  config: AccessConfig;
  policy: AccessPolicy;
  development: boolean;
  store: CacheStore | undefined;
  logger: Logger;
}): AccessControl {
  const { config, logger } = options;
  const { authenticate, registry } = setUpAuthentication(config.auth, logger);
  const operations = new OperationGate({
    policy: options.policy,
    mode: config.authorizationMode ?? 'filter',
    introspectionForAll: options.development,
    enabled: config.fieldPermissions ?? true,
  });
  const limiter = options.store?.redis
    ? new RedisRateLimiter(options.store.redis, options.store.namespace, logger)
    : new MemoryRateLimiter();
  const tokenClientLimit = config.tokenClientRateLimit ?? { requestsPerMinute: 600, burst: 60 };
  const gate = new RequestGate({
    authenticate,
    limiter,
    // Keyed by how the caller was identified too, so a token subject cannot spend a registered
    // client's allowance by sharing its id.
    rateLimitFor: (identity) =>
      (identity.via === 'api-key' ? registry.client(identity.id)?.rateLimit : undefined) ?? tokenClientLimit,
    rateLimitKey: (identity) => `${identity.via}:${identity.id}`,
    operations,
    anomalies: new AnomalyDetector({ logger: logger.child({ component: 'anomaly' }) }),
  });
  return { authenticate, gate, operations, signer: new GatewayTokenSigner(config.gatewayTokenKey) };
}
