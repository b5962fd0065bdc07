import type { JWK } from 'jose';
import { GatewayTokenSigner, publicJwksOf } from '../lib/auth/gateway-token.js';
import type { Declarations } from '../lib/auth/requirements.js';
import type { CacheStore } from '../lib/cache/store.js';
import type { Logger } from '../lib/logger.js';
import { AnomalyDetector } from './auth/anomaly.js';
import { activeHealthHistory } from '../lib/health/history/keeper.js';
import type { Authenticator } from './auth/authenticate.js';
import type { AuthConfig } from './auth/config.js';
import { OperationGate } from './auth/operation-gate.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimit, type RateLimiter } from './auth/rate-limit.js';
import { setUpAuthentication } from './auth/setup.js';
import { identityOfClient } from './auth/registry.js';
import { withSystemCallers } from './auth/system-tokens.js';
import type { ClientIdentity } from './identity.js';

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
  /** The usage anomaly detector's window and thresholds (tests shorten the window). @default 1 min, ×5, 30 */
  anomalies?: { windowMs?: number; factor?: number; minimum?: number };
}

/** The allowance of the gateway's own background work (a `worker` reading as the event processor). */
const SYSTEM_RATE_LIMIT: RateLimit = { requestsPerMinute: 600_000, burst: 10_000 };

/** The parts of the request pipeline that know who a caller is and what it may do. */
export interface AccessControl {
  authenticate: Authenticator;
  limiter: RateLimiter;
  /** The allowance of a client: its registry entry's, or the default for token clients. */
  rateLimitFor(identity: ClientIdentity): RateLimit;
  /** A registered client's own cap on open subscriptions, if its entry sets one. */
  subscriptionCapFor(identity: ClientIdentity): number | undefined;
  anomalies: AnomalyDetector;
  operations: OperationGate;
  signer: GatewayTokenSigner;
  /**
   * A registered client's identity as its API key would establish it, by client id (the owner of a
   * webhook endpoint, whose permissions read its enrichment); undefined when no such client is
   * registered now. Scope changes in the registry apply at the next read.
   */
  registeredIdentity(clientId: string): ClientIdentity | undefined;
  /** Stops watching the client registry file; the gateway's `stop` calls it. */
  close(): void;
}

/**
 * The gateway's least-privilege machinery in one place: credentials (API keys, access tokens),
 * per-client rate limits (shared through Redis when the cache is), usage anomalies, field
 * permissions read from the supergraph, and the signer of caller tokens for subgraphs. The request
 * pipeline applies them, in order, to every operation.
 */
export function createAccessControl(options: {
  config: AccessConfig;
  declarations: Declarations;
  development: boolean;
  store: CacheStore | undefined;
  logger: Logger;
}): AccessControl {
  const { config, logger } = options;
  const clients = setUpAuthentication(config.auth, logger);
  const registry = clients.registry;
  const registeredIdentity = (clientId: string): ClientIdentity | undefined => {
    const client = registry.current.client(clientId);
    return client ? identityOfClient(client) : undefined;
  };
  // `worker` processes read the graph as the event processor, and webhooks' enrichment as the
  // endpoint's owner, with tokens signed by this key.
  const authenticate = withSystemCallers(
    clients.authenticate,
    publicJwksOf(config.gatewayTokenKey),
    registeredIdentity,
  );
  // Keys revoked or added with the CLI apply without a restart.
  const stopWatching = registry.watch();
  const tokenClientLimit = config.tokenClientRateLimit ?? { requestsPerMinute: 600, burst: 60 };
  // A registered client's settings apply to the identity its API key established, never to an
  // access token that happens to carry the same id.
  const registered = (identity: ClientIdentity) =>
    identity.via === 'api-key' ? registry.current.client(identity.id) : undefined;
  return {
    authenticate,
    limiter: options.store?.redis
      ? new RedisRateLimiter(options.store.redis, options.store.namespace, logger)
      : new MemoryRateLimiter(),
    // The gateway's own background reads are bounded by the processors' concurrency, not a client quota.
    rateLimitFor: (identity) =>
      identity.via === 'system' ? SYSTEM_RATE_LIMIT : (registered(identity)?.rateLimit ?? tokenClientLimit),
    subscriptionCapFor: (identity) => registered(identity)?.maxSubscriptions,
    anomalies: new AnomalyDetector({
      ...config.anomalies,
      // The first-seen set lives in the health history, so a restart or another gateway does not
      // call an old denial new; without a history, this process's memory decides.
      firstSeen: (client, item) => activeHealthHistory()?.firstDenial(client, item) ?? Promise.resolve(true),
      logger: logger.child({ component: 'anomaly' }),
    }),
    operations: new OperationGate({
      declarations: options.declarations,
      mode: config.authorizationMode ?? 'filter',
      introspectionForAll: options.development,
      enabled: config.fieldPermissions ?? true,
    }),
    signer: new GatewayTokenSigner(config.gatewayTokenKey),
    registeredIdentity,
    close: stopWatching,
  };
}
