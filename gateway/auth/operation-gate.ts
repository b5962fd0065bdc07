import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { describeRequirement, type Declarations } from '../../lib/auth/requirements.js';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { objectKey } from '../../lib/cache/object-keys.js';
import { ErrorCode } from '../../lib/errors.js';
import { Counter } from '../../lib/metrics.js';
import type { GatewayContext } from '../context.js';
import { clientLabel, scopeKey, type ClientIdentity } from '../identity.js';
import type { Refusal } from '../pipeline/types.js';
import { authorizeOperation, insertNulls, type AuthorizationPlan, type Removal } from './authorize.js';

export const authorizationMetrics = {
  deniedFields: new Counter(
    'authorization_denied_fields_total',
    'Fields removed from operations, by client and field.',
    ['client', 'field'],
  ),
  refusedOperations: new Counter(
    'authorization_refused_operations_total',
    'Operations refused whole (strict mode or nothing left to run).',
    ['client', 'reason'],
  ),
};

export interface OperationGateOptions {
  /** The supergraph's `@requiresScopes`/`@authenticated`, read as every subgraph reads its own. */
  declarations: Declarations;
  /** `filter` removes what the caller may not read; `strict` refuses the whole operation. */
  mode: 'filter' | 'strict';
  /** Development mode: introspection for every caller. */
  introspectionForAll: boolean;
  /** Only the permission benchmark turns field checks off, to measure them. @default true */
  enabled?: boolean;
}

/** What the response step needs to finish an authorized operation. */
export type GateOutcome = Extract<AuthorizationPlan, { kind: 'rewritten' }> | undefined;

/** What the permission step lets through: the text to run, its document, what was removed. */
export interface Authorized {
  query: string;
  document: DocumentNode;
  outcome: GateOutcome;
}

export function forbiddenError(removal: Removal) {
  return {
    message: `Not authorized to read ${removal.coordinate}: requires ${describeRequirement(removal.required)}.`,
    path: removal.path,
    extensions: { code: ErrorCode.FORBIDDEN, field: removal.coordinate, requiredScopes: removal.required },
  };
}

type Plan =
  | { kind: 'unchanged' }
  | { kind: 'rewritten'; document: DocumentNode; outcome: NonNullable<GateOutcome> }
  | Exclude<AuthorizationPlan, { kind: 'unchanged' } | { kind: 'rewritten' }>;

/**
 * Field permissions at the gateway, before the query planner sees the operation. Plans are cached
 * per (scope set, operation), so the hot path is one map look-up; the rewritten operation is what
 * Apollo plans and runs, so no subgraph is ever asked for a denied field.
 */
export class OperationGate {
  private readonly plans = new BoundedMap<string, Plan>(5_000);
  private schema: GraphQLSchema | undefined;

  constructor(private readonly options: OperationGateOptions) {}

  /** The API schema the gateway serves; set on every supergraph load. */
  useSchema(schema: GraphQLSchema): void {
    this.schema = schema;
    this.plans.clear();
  }

  private plan(identity: ClientIdentity, document: DocumentNode, operationName: string | undefined): Plan {
    const schema = this.schema;
    if (!schema || this.options.enabled === false) return { kind: 'unchanged' };
    // The document, what the plan is computed from, stands for the text: the pipeline's parse cache
    // gives one document object per text, and a short number keeps each request from copying its
    // whole text into the key.
    const key = `${scopeKey(identity)}\n${operationName ?? ''}\n${objectKey(document)}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const decided = authorizeOperation(
        schema,
        this.options.declarations,
        document,
        operationName,
        new Set(identity.scopes),
        { introspectionForAll: this.options.introspectionForAll },
      );
      plan =
        decided.kind === 'rewritten'
          ? { kind: 'rewritten', document: parse(decided.query, { noLocation: true }), outcome: decided }
          : decided;
      this.plans.set(key, plan);
    }
    return plan;
  }

  /**
   * The operation as this caller may run it, or its refusal: 400 when it is too large to check,
   * 403 in strict mode, or a complete answer of nulls when nothing the caller asked for is readable.
   */
  check(
    identity: ClientIdentity,
    query: string,
    document: DocumentNode,
    operationName: string | undefined,
  ): Authorized | Refusal {
    const plan = this.plan(identity, document, operationName);
    if (plan.kind === 'unchanged') return { query, document, outcome: undefined };
    if (plan.kind === 'too-large') {
      authorizationMetrics.refusedOperations.inc({ client: clientLabel(identity), reason: 'too-large' });
      return {
        status: 400,
        errors: [
          {
            message: 'The operation expands to too many fields to check.',
            extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED },
          },
        ],
      };
    }
    const removals = plan.kind === 'rewritten' ? plan.outcome.removals : plan.removals;
    for (const removal of removals)
      authorizationMetrics.deniedFields.inc({ client: clientLabel(identity), field: removal.coordinate });
    if (this.options.mode === 'strict') {
      authorizationMetrics.refusedOperations.inc({ client: clientLabel(identity), reason: 'strict' });
      return { status: 403, errors: removals.map(forbiddenError) };
    }
    if (plan.kind === 'nothing-to-run') {
      authorizationMetrics.refusedOperations.inc({ client: clientLabel(identity), reason: 'nothing-left' });
      return { status: 200, data: plan.data, errors: plan.removals.map(forbiddenError) };
    }
    return { query: plan.outcome.query, document: plan.document, outcome: plan.outcome };
  }
}

/** Puts back what the gate removed: null at each removed field, a FORBIDDEN error at its path. */
export function authorizationResponsePlugin(): ApolloServerPlugin<GatewayContext> {
  // One listener for the requests the gate changed, reading the outcome from each request's context.
  const listener: GraphQLRequestListener<GatewayContext> = {
    async willSendResponse({ response, contextValue }) {
      const outcome = contextValue.authorization;
      if (!outcome || response.body.kind !== 'single') return;
      const result = response.body.singleResult;
      if (result.data) insertNulls(result.data, outcome.nullPaths);
      const errors = outcome.removals.map(forbiddenError);
      result.errors = [...(result.errors ?? []), ...errors];
    },
  };
  return {
    async requestDidStart({ contextValue }) {
      return contextValue.authorization ? listener : undefined;
    },
  };
}
