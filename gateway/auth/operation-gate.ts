import type { ApolloServerPlugin } from '@apollo/server';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { ErrorCode } from '../../lib/errors.js';
import { Counter } from '../../lib/metrics.js';
import type { EarlyResponse, GraphQLHttpInput } from '../../lib/server/graphql-http.js';
import type { GatewayContext } from '../context.js';
import { scopeKey, type ClientIdentity } from '../identity.js';
import { OPERATION_LIMITS } from '../plugins/operation-limits.js';
import { authorizeOperation, insertNulls, type AuthorizationPlan, type Removal } from './authorize.js';
import { describe, type AccessPolicy } from './policy.js';

export const authorizationMetrics = {
  deniedFields: new Counter(
    'authorization_denied_fields_total',
    'Fields removed from operations, by client and field.',
  ),
  refusedOperations: new Counter(
    'authorization_refused_operations_total',
    'Operations refused whole (strict mode or nothing left to run).',
  ),
};

export interface OperationGateOptions {
  policy: AccessPolicy;
  /** `filter` removes what the caller may not read; `strict` refuses the whole operation. */
  mode: 'filter' | 'strict';
  /** Development mode: introspection for every caller. */
  introspectionForAll: boolean;
  /** Only the permission benchmark turns field checks off, to measure them. @default true */
  enabled?: boolean;
}

/** What the response step needs to finish an authorized operation. */
export type GateOutcome = Extract<AuthorizationPlan, { kind: 'rewritten' }> | undefined;

interface Operation {
  query: string;
  operationName: string | undefined;
}

function operationOf(input: GraphQLHttpInput): Operation | undefined {
  if (input.method === 'GET') {
    const params = new URLSearchParams(input.search);
    const query = params.get('query');
    return query ? { query, operationName: params.get('operationName') ?? undefined } : undefined;
  }
  const body = input.body as { query?: unknown; operationName?: unknown } | null;
  if (!body || typeof body !== 'object' || typeof body.query !== 'string') return undefined;
  return {
    query: body.query,
    operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
  };
}

function withQuery(input: GraphQLHttpInput, query: string): GraphQLHttpInput {
  if (input.method === 'GET') {
    const params = new URLSearchParams(input.search);
    params.set('query', query);
    return { ...input, search: `?${params.toString()}` };
  }
  return { ...input, body: { ...(input.body as object), query } };
}

export function forbiddenError(removal: Removal) {
  return {
    message: `Not authorized to read ${removal.coordinate}: requires ${describe(removal.required)}.`,
    path: removal.path,
    extensions: { code: ErrorCode.FORBIDDEN, field: removal.coordinate, requiredScopes: removal.required },
  };
}

/**
 * Field permissions at the gateway, before the query planner sees the operation. Plans are cached
 * per (scope set, operation), so the hot path is one map look-up; the rewritten operation is what
 * Apollo plans and runs, so no subgraph is ever asked for a denied field.
 */
export class OperationGate {
  private readonly documents = new BoundedMap<string, DocumentNode | 'too-many-tokens' | null>(2_000);
  private readonly plans = new BoundedMap<string, AuthorizationPlan>(5_000);
  private schema: GraphQLSchema | undefined;

  constructor(private readonly options: OperationGateOptions) {}

  /** The API schema the gateway serves; set on every supergraph load. */
  useSchema(schema: GraphQLSchema): void {
    this.schema = schema;
    this.plans.clear();
  }

  private document(query: string): DocumentNode | 'too-many-tokens' | null {
    let document = this.documents.get(query);
    if (document === undefined) {
      try {
        document = parse(query, { maxTokens: OPERATION_LIMITS.maxTokens, noLocation: true });
      } catch (error) {
        // A syntax error is Apollo's to report with its own code; a token bomb is ours to refuse.
        // graphql-js words it "more that N tokens" (sic); match either spelling.
        document = /more th[ae][nt] \d+ tokens/.test((error as Error).message) ? 'too-many-tokens' : null;
      }
      this.documents.set(query, document);
    }
    return document;
  }

  check(
    identity: ClientIdentity,
    input: GraphQLHttpInput,
  ): { input: GraphQLHttpInput; outcome: GateOutcome } | EarlyResponse {
    const operation = operationOf(input);
    if (!operation || !this.schema || this.options.enabled === false) return { input, outcome: undefined };
    const key = `${scopeKey(identity)}\n${operation.operationName ?? ''}\n${operation.query}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const document = this.document(operation.query);
      if (document === 'too-many-tokens') {
        return {
          status: 400,
          body: {
            errors: [
              {
                message: `Token limit of ${OPERATION_LIMITS.maxTokens} exceeded.`,
                extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED },
              },
            ],
          },
        };
      }
      plan = document
        ? authorizeOperation(
            this.schema,
            this.options.policy,
            document,
            operation.operationName,
            new Set(identity.scopes),
            {
              introspectionForAll: this.options.introspectionForAll,
            },
          )
        : { kind: 'unchanged' };
      this.plans.set(key, plan);
    }
    if (plan.kind === 'unchanged') return { input, outcome: undefined };
    if (plan.kind === 'too-large') {
      authorizationMetrics.refusedOperations.inc({ client: identity.id, reason: 'too-large' });
      return {
        status: 400,
        body: {
          errors: [
            {
              message: 'The operation expands to too many fields to check.',
              extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED },
            },
          ],
        },
      };
    }
    for (const removal of plan.removals)
      authorizationMetrics.deniedFields.inc({ client: identity.id, field: removal.coordinate });
    if (this.options.mode === 'strict') {
      authorizationMetrics.refusedOperations.inc({ client: identity.id, reason: 'strict' });
      return { status: 403, body: { errors: plan.removals.map(forbiddenError) } };
    }
    if (plan.kind === 'nothing-to-run') {
      authorizationMetrics.refusedOperations.inc({ client: identity.id, reason: 'nothing-left' });
      return { status: 200, body: { data: plan.data, errors: plan.removals.map(forbiddenError) } };
    }
    return { input: withQuery(input, plan.query), outcome: plan };
  }
}

/** Puts back what the gate removed: null at each removed field, a FORBIDDEN error at its path. */
export function authorizationResponsePlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const outcome = contextValue.authorization;
      if (!outcome) return;
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (result.data) insertNulls(result.data, outcome.nullPaths);
          const errors = outcome.removals.map(forbiddenError);
          result.errors = [...(result.errors ?? []), ...errors];
        },
      };
    },
  };
}
