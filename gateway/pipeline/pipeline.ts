import { recordOutcome, type Outcome } from '../../lib/health/recorder.js';
import type { ApolloServer } from '@apollo/server';
import type { FormattedExecutionResult, GraphQLFormattedError, OperationDefinitionNode } from 'graphql';
import { ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import { budgetFromDeadlineHeader, createRequestContext } from '../../lib/request-context.js';
import type { AnomalyDetector } from '../auth/anomaly.js';
import type { Authenticator, CredentialSource } from '../auth/authenticate.js';
import type { OperationGate } from '../auth/operation-gate.js';
import { rateLimitMetrics, type RateLimit, type RateLimiter } from '../auth/rate-limit.js';
import type { RequestDeadline } from '../config.js';
import type { GatewayContext } from '../context.js';
import { ANONYMOUS, clientKey, clientLabel, UNIDENTIFIED, type ClientIdentity } from '../identity.js';
import { pageSizeProblems, type DocumentChecker } from './documents.js';
import type { SubscriptionCaps, SubscriptionSlots } from './subscription-slots.js';
import type { Admission, AdmittedOperation, OperationRequest, Refusal, Transport } from './types.js';

export const pipelineMetrics = {
  operations: new Counter(
    'graphql_operations_total',
    'Operations answered, by client, transport, kind and outcome.',
    ['client', 'transport', 'kind', 'outcome'],
  ),
  refused: new Counter(
    'graphql_operations_refused_total',
    'Operations refused before they ran, by transport and code.',
    ['transport', 'code'],
  ),
};

export interface OperationPipelineOptions {
  authenticate: Authenticator;
  limiter: RateLimiter;
  /** The allowance of a client: its registry entry's, or the default for token clients. */
  rateLimitFor(identity: ClientIdentity): RateLimit;
  anomalies: AnomalyDetector;
  documents: DocumentChecker;
  permissions: OperationGate;
  slots: SubscriptionSlots;
  /** Defaults; a client's registry entry may lower or raise its own per-client cap. */
  subscriptionCaps: SubscriptionCaps;
  /** A client's own cap on open subscriptions, from its registry entry. */
  subscriptionCapFor(identity: ClientIdentity): number | undefined;
  apollo: ApolloServer<GatewayContext>;
  /**
   * Time budget of one operation, from arrival to the last subgraph answer: the client's
   * `x-request-deadline-ms` up to `maxMs`, `defaultMs` without one.
   */
  deadline: RequestDeadline;
  logger: Logger;
}

/** Variables nest at most this deep: deeper JSON only exists to exhaust the stack of whoever walks it. */
const MAX_VARIABLE_DEPTH = 32;

const refusal = (
  status: number,
  message: string,
  code: string,
  headers?: Record<string, string>,
  extensions: Record<string, unknown> = {},
): Refusal => ({
  status,
  errors: [{ message, extensions: { code, ...extensions } }],
  ...(headers ? { headers } : {}),
});

/** Iterative, so the check cannot itself overflow the stack it protects. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** An empty list shared by every operation that has nothing to list (no error codes, no removals). */
const NONE: readonly string[] = [];

function codesOf(errors: readonly GraphQLFormattedError[] | undefined): readonly string[] {
  // Most operations have no errors: no new Set and arrays for each (issue 17, target 2).
  if (!errors || errors.length === 0) return NONE;
  return [...new Set(errors.map((e) => String(e.extensions?.['code'] ?? 'UNKNOWN')))];
}

/** What an operation holding no subscription slot releases. */
const NOTHING_TO_RELEASE = () => {};

/**
 * The one way into the graph. Every operation, whatever its transport (HTTP GET and POST,
 * graphql-ws, SSE), passes the same sequence: who is calling (401), their rate limit and usage
 * counters (429), the request's shape, parse and validation with the operation limits (400),
 * which operation to run, page sizes, field permissions (nulls and FORBIDDEN, or 403 in strict
 * mode), the subscription caps, then the executor of its kind, and one log line. Transports adapt
 * input and output only; none of them checks anything itself.
 */
export class OperationPipeline {
  constructor(private readonly options: OperationPipelineOptions) {}

  /** Authentication alone, for a WebSocket's `connection_init` and for endpoints outside GraphQL. */
  async authenticate(
    source: CredentialSource,
  ): Promise<{ ok: true; identity: ClientIdentity } | { ok: false; refusal: Refusal }> {
    const authentication = await this.options.authenticate(source);
    if (authentication.ok) return authentication;
    // A failed credential names no client, so failures are counted together.
    this.options.anomalies.record(
      authentication.reason === 'missing' ? ANONYMOUS : UNIDENTIFIED,
      'auth_failures',
    );
    return {
      ok: false,
      refusal: refusal(
        401,
        authentication.message,
        ErrorCode.UNAUTHENTICATED,
        { 'www-authenticate': authentication.wwwAuthenticate },
        authentication.extensions,
      ),
    };
  }

  /** The caller's rate limit: one request spent, or the 429 to answer. */
  private async spend(identity: ClientIdentity): Promise<Refusal | undefined> {
    this.options.anomalies.record(identity, 'requests');
    const decision = await this.options.limiter.take(
      clientKey(identity),
      this.options.rateLimitFor(identity),
    );
    if (decision.allowed) return undefined;
    recordClientRequest(identity, 'rate-limited');
    rateLimitMetrics.limited.inc({ client: clientLabel(identity) });
    return refusal(
      429,
      `Rate limit reached for client ${identity.id}; retry in ${decision.retryAfterSeconds} s.`,
      ErrorCode.RATE_LIMITED,
      { 'retry-after': String(decision.retryAfterSeconds) },
      { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }

  /**
   * The gate of an endpoint outside GraphQL (metrics, health details): the same authentication and
   * rate limit as an operation, then one scope.
   */
  async admitEndpoint(
    source: CredentialSource,
    scope: string,
    what: string,
  ): Promise<{ ok: true; identity: ClientIdentity } | { ok: false; refusal: Refusal }> {
    const authenticated = await this.authenticate(source);
    if (!authenticated.ok) return authenticated;
    const limited = await this.spend(authenticated.identity);
    if (limited) return { ok: false, refusal: limited };
    if (!authenticated.identity.scopes.includes(scope))
      return {
        ok: false,
        refusal: refusal(403, `Reading ${what} requires the ${scope} scope.`, ErrorCode.FORBIDDEN),
      };
    return authenticated;
  }

  async admit(request: OperationRequest): Promise<Admission> {
    const startedAt = performance.now();
    const arrivedAt = Date.now();
    const authenticated = await this.authenticate(request.credentials);
    if (!authenticated.ok) return this.refuse(request, startedAt, authenticated.refusal);
    const identity = authenticated.identity;
    const limited = await this.spend(identity);
    if (limited) return this.refuse(request, startedAt, limited, identity);

    const { query, operationName } = request;
    if (typeof query !== 'string' || query.trim() === '')
      return this.refuse(
        request,
        startedAt,
        refusal(400, 'Send the operation as a non-empty string in `query`.', ErrorCode.BAD_REQUEST),
        identity,
      );
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
      return this.refuse(
        request,
        startedAt,
        refusal(400, '`operationName` must be a string.', ErrorCode.BAD_REQUEST),
        identity,
      );
    const variables = request.variables ?? {};
    if (typeof variables !== 'object' || Array.isArray(variables))
      return this.refuse(
        request,
        startedAt,
        refusal(400, '`variables` must be a JSON object.', ErrorCode.BAD_REQUEST),
        identity,
      );
    if (depthOf(variables, MAX_VARIABLE_DEPTH) > MAX_VARIABLE_DEPTH)
      return this.refuse(
        request,
        startedAt,
        refusal(400, `\`variables\` nest deeper than ${MAX_VARIABLE_DEPTH} levels.`, ErrorCode.BAD_REQUEST),
        identity,
      );

    const budget = budgetFromDeadlineHeader(
      request.deadlineHeader,
      this.options.deadline.defaultMs,
      this.options.deadline.maxMs,
    );
    if (!budget.ok)
      return this.refuse(request, startedAt, refusal(400, budget.message, ErrorCode.BAD_REQUEST), identity);

    const checked = this.options.documents.check(query);
    if (!checked.ok)
      return this.refuse(request, startedAt, { status: checked.status, errors: checked.errors }, identity);
    const name = operationName ?? undefined;
    const operation = this.resolveOperation(checked.operations, name);
    if ('status' in operation) return this.refuse(request, startedAt, operation, identity);

    if (operation.operation === 'mutation' && request.method === 'GET')
      return this.refuse(
        request,
        startedAt,
        refusal(405, 'Mutations are not served over GET; send them with POST.', ErrorCode.BAD_REQUEST, {
          allow: 'POST',
        }),
        identity,
      );
    if (operation.operation === 'subscription' && request.transport === 'http')
      return this.refuse(
        request,
        startedAt,
        refusal(
          400,
          'Subscriptions are served over graphql-ws on /graphql and over Server-Sent Events on /graphql/stream, not in a plain HTTP request.',
          ErrorCode.BAD_REQUEST,
        ),
        identity,
      );
    const vars = variables as Record<string, unknown>;
    const pageProblems = pageSizeProblems(checked, operation, vars);
    if (pageProblems.length > 0)
      return this.refuse(request, startedAt, { status: 400, errors: pageProblems }, identity);

    const authorized = this.options.permissions.check(identity, query, checked.document, name);
    if ('status' in authorized) {
      const denied = authorized.errors.flatMap((e) =>
        e.extensions?.['code'] === ErrorCode.FORBIDDEN ? [String(e.extensions['field'] ?? 'operation')] : [],
      );
      this.options.anomalies.recordDenied(identity, denied);
      recordClientRequest(identity, denied.length > 0 ? 'denied' : 'refused');
      // Nulls are an answer for a query; a subscription with nothing readable has no stream to open.
      if (operation.operation === 'subscription' && authorized.data !== undefined)
        return this.refuse(request, startedAt, { status: 403, errors: authorized.errors }, identity);
      return this.refuse(request, startedAt, authorized, identity);
    }
    const removed = authorized.outcome?.removals.map((removal) => removal.coordinate) ?? NONE;
    this.options.anomalies.recordDenied(identity, removed);
    recordClientRequest(identity, removed.length > 0 ? 'denied' : undefined);

    let release = NOTHING_TO_RELEASE;
    if (operation.operation === 'subscription') {
      const caps = this.options.subscriptionCaps;
      const claim = this.options.slots.claim(
        clientKey(identity),
        this.options.subscriptionCapFor(identity) ?? caps.perClient,
        request.transport === 'graphql-ws' ? request.connectionId : undefined,
        caps.perConnection,
      );
      if (!claim.ok)
        return this.refuse(
          request,
          startedAt,
          refusal(
            429,
            claim.scope === 'connection'
              ? `This connection already has ${claim.limit} subscriptions open, the most one connection may hold; complete one first or open another connection.`
              : `Client ${identity.id} already has ${claim.limit} subscriptions open, the most it may hold; complete one first.`,
            ErrorCode.RATE_LIMITED,
            undefined,
            { limit: claim.limit },
          ),
          identity,
        );
      release = claim.release;
    }
    return {
      ok: true,
      operation: {
        transport: request.transport,
        identity,
        kind: operation.operation,
        query: authorized.query,
        document: authorized.document,
        operationName: name,
        variables: vars,
        authorization: authorized.outcome,
        requestId: request.requestId,
        startedAt,
        arrivedAt,
        budgetMs: budget.budgetMs,
        release,
      },
    };
  }

  private resolveOperation(
    operations: readonly OperationDefinitionNode[],
    name: string | undefined,
  ): OperationDefinitionNode | Refusal {
    if (name !== undefined) {
      const named = operations.find((o) => o.name?.value === name);
      if (named) return named;
      return refusal(
        400,
        `The document has no operation named "${name}"; it has ${describeOperations(operations)}.`,
        ErrorCode.OPERATION_RESOLUTION_FAILURE,
      );
    }
    if (operations.length === 1 && operations[0]) return operations[0];
    return refusal(
      400,
      `The document holds ${operations.length} operations (${describeOperations(operations)}): name the one to run in \`operationName\`.`,
      ErrorCode.OPERATION_RESOLUTION_FAILURE,
    );
  }

  /** The context Apollo runs an admitted operation with. */
  contextOf(operation: AdmittedOperation): GatewayContext {
    return {
      request: createRequestContext(
        this.options.logger,
        operation.requestId,
        operation.budgetMs,
        operation.arrivedAt,
      ),
      budgetMs: operation.budgetMs,
      client: operation.identity,
      ...(operation.authorization ? { authorization: operation.authorization } : {}),
    };
  }

  /**
   * Runs an admitted query or mutation through Apollo (the federated path, its caches and plugins)
   * for transports that are not HTTP requests; HTTP goes through Apollo's HTTP handling instead.
   */
  async execute(operation: AdmittedOperation): Promise<FormattedExecutionResult> {
    const contextValue = this.contextOf(operation);
    const response = await this.options.apollo.executeOperation(
      {
        query: operation.query,
        variables: operation.variables,
        ...(operation.operationName !== undefined ? { operationName: operation.operationName } : {}),
      },
      { contextValue },
    );
    const result: FormattedExecutionResult =
      response.body.kind === 'single'
        ? response.body.singleResult
        : {
            errors: [
              {
                message: 'Incremental delivery is not supported.',
                extensions: { code: ErrorCode.BAD_REQUEST },
              },
            ],
          };
    this.finish(operation, { status: response.http.status ?? 200, errors: result.errors });
    return result;
  }

  /** The one log line of an operation that ran, and its count. */
  finish(
    operation: AdmittedOperation,
    outcome: { status: number; errors?: readonly GraphQLFormattedError[] | undefined; events?: number },
  ): void {
    const errorCodes = codesOf(outcome.errors);
    pipelineMetrics.operations.inc({
      client: clientLabel(operation.identity),
      transport: operation.transport,
      kind: operation.kind,
      outcome: errorCodes.length > 0 ? 'errors' : 'ok',
    });
    // Operations the gateway runs for itself are background work, logged only when debug is asked for.
    const level = operation.identity.via === 'system' ? 'debug' : 'info';
    this.options.logger[level](
      {
        requestId: operation.requestId,
        transport: operation.transport,
        client: operation.identity.id,
        operationName: operation.operationName ?? null,
        kind: operation.kind,
        status: outcome.status,
        ms: Math.round((performance.now() - operation.startedAt) * 10) / 10,
        ...(errorCodes.length > 0 ? { errorCodes } : {}),
        ...(outcome.events !== undefined ? { events: outcome.events } : {}),
      },
      'operation',
    );
  }

  /** An admission refused: its log line, and the refusal. A method, not a closure made per request. */
  private refuse(
    request: OperationRequest,
    startedAt: number,
    answer: Refusal,
    identity?: ClientIdentity,
  ): Admission {
    this.logRefusal(request, answer, startedAt, identity);
    return { ok: false, refusal: answer };
  }

  private logRefusal(
    request: OperationRequest,
    answer: Refusal,
    startedAt: number,
    identity: ClientIdentity | undefined,
  ): void {
    const errorCodes = codesOf(answer.errors);
    for (const code of errorCodes) pipelineMetrics.refused.inc({ transport: request.transport, code });
    this.options.logger.info(
      {
        requestId: request.requestId,
        transport: request.transport,
        client: identity?.id ?? null,
        operationName: typeof request.operationName === 'string' ? request.operationName.slice(0, 100) : null,
        status: answer.status,
        ms: Math.round((performance.now() - startedAt) * 10) / 10,
        errorCodes,
      },
      'operation refused',
    );
  }
}

function describeOperations(operations: readonly OperationDefinitionNode[]): string {
  if (operations.length === 0) return 'no operation';
  return operations.map((o) => (o.name ? `"${o.name.value}"` : 'an anonymous one')).join(', ');
}

export type { Transport };

/**
 * A client's request in the health model (`client:<label>`, kind `client`): on `/status`, in
 * `integrations` and the health history beside the platforms. Counted once it is past the rate
 * limit and the permission check (or refused by either): `denied` when any field was denied,
 * `rate-limited` past its quota, `refused` when refused whole for another reason. The gateway's
 * own background reads (`system`) are not a client.
 */
const REFUSAL_CODES: Record<string, string> = { denied: 'FORBIDDEN', 'rate-limited': 'RATE_LIMITED' };

const OK: Outcome = { ok: true };
/** One connection object per client label, not a new name and object per request. */
const clientConnections = new Map<string, { name: string; kind: 'client' }>();

function recordClientRequest(identity: ClientIdentity, refusedAs: string | undefined): void {
  if (identity.via === 'system') return;
  const label = clientLabel(identity);
  let connection = clientConnections.get(label);
  if (!connection) clientConnections.set(label, (connection = { name: `client:${label}`, kind: 'client' }));
  recordOutcome(
    connection,
    refusedAs === undefined
      ? OK
      : {
          ok: false,
          errorClass: refusedAs,
          code: REFUSAL_CODES[refusedAs] ?? 'REFUSED',
          message: `request ${refusedAs}`,
        },
  );
}
