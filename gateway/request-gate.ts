import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '../lib/errors.js';
import type { EarlyResponse, GraphQLHttpInput } from '../lib/server/graphql-http.js';
import type { AnomalyDetector } from './auth/anomaly.js';
import type { Authenticator } from './auth/authenticate.js';
import type { GateOutcome, OperationGate } from './auth/operation-gate.js';
import { rateLimitMetrics, type RateLimit, type RateLimiter } from './auth/rate-limit.js';
import type { ClientIdentity } from './identity.js';

export interface RequestGateOptions {
  authenticate: Authenticator;
  limiter: RateLimiter;
  /** The allowance of a client: its registry entry's, or the default for token clients. */
  rateLimitFor(identity: ClientIdentity): RateLimit;
  /** The bucket a client spends from. */
  rateLimitKey(identity: ClientIdentity): string;
  operations: OperationGate;
  anomalies: AnomalyDetector;
}

/**
 * Everything a GraphQL request passes before Apollo sees it, in order: who is calling (401 without
 * valid credentials, with no hint of which part was wrong), their rate limit (429 with
 * Retry-After), then the field permissions of the operation itself.
 */
export class RequestGate {
  private readonly identities = new WeakMap<IncomingMessage, ClientIdentity>();
  private readonly outcomes = new WeakMap<IncomingMessage, GateOutcome>();

  constructor(private readonly options: RequestGateOptions) {}

  async prepare(req: IncomingMessage, input: GraphQLHttpInput): Promise<GraphQLHttpInput | EarlyResponse> {
    const authentication = await this.options.authenticate(req);
    if (!authentication.ok) {
      // A failed credential names no client, so failures are counted together.
      this.options.anomalies.record(
        authentication.reason === 'missing' ? 'anonymous' : 'unidentified',
        'auth_failures',
      );
      return {
        status: 401,
        headers: { 'www-authenticate': authentication.wwwAuthenticate },
        body: {
          errors: [{ message: authentication.message, extensions: { code: ErrorCode.UNAUTHENTICATED } }],
        },
      };
    }
    const identity = authentication.identity;
    this.identities.set(req, identity);
    this.options.anomalies.record(identity.id, 'requests');
    const decision = await this.options.limiter.take(
      this.options.rateLimitKey(identity),
      this.options.rateLimitFor(identity),
    );
    if (!decision.allowed) {
      rateLimitMetrics.limited.inc({ client: identity.id });
      return {
        status: 429,
        headers: { 'retry-after': String(decision.retryAfterSeconds) },
        body: {
          errors: [
            {
              message: `Rate limit reached for client ${identity.id}; retry in ${decision.retryAfterSeconds} s.`,
              extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds: decision.retryAfterSeconds },
            },
          ],
        },
      };
    }
    const checked = this.options.operations.check(identity, input);
    if ('status' in checked) {
      const denied = (checked.body as { errors?: unknown[] }).errors?.length ?? 0;
      if (denied > 0 && checked.status !== 400)
        this.options.anomalies.record(identity.id, 'denied_fields', denied);
      return checked;
    }
    if (checked.outcome) {
      this.outcomes.set(req, checked.outcome);
      this.options.anomalies.record(identity.id, 'denied_fields', checked.outcome.removals.length);
    }
    return checked.input;
  }

  /** Who this request is from; only requests that passed `prepare` reach Apollo. */
  identityOf(req: IncomingMessage): ClientIdentity | undefined {
    return this.identities.get(req);
  }

  outcomeOf(req: IncomingMessage): GateOutcome {
    return this.outcomes.get(req);
  }
}
