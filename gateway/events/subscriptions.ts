import {
  getArgumentValues,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { HeaderMap } from '@apollo/server';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { ErrorCode } from '../../lib/errors.js';
import type { EventType } from '../../lib/events/event.js';
import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import { inlineFragments, insertNulls, TooLarge } from '../auth/authorize.js';
import { forbiddenError, type GateOutcome, type OperationGate } from '../auth/operation-gate.js';
import { scopeKey, type ClientIdentity } from '../identity.js';
import { isLimitError } from '../plugins/operation-limits.js';
import type { EventHub } from './hub.js';
import { buildPayload, customerVariables, planPayload, type CustomerResult } from './payload.js';

export const subscriptionMetrics = {
  started: new Counter('subscriptions_started_total', 'Subscriptions started, by transport.'),
  refused: new Counter('subscriptions_refused_total', 'Subscriptions refused before they started, by code.'),
};

export interface SubscriptionRequest {
  query: string;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
}

export interface SubscriptionServiceOptions {
  hub: EventHub;
  gate: OperationGate;
  /** The gateway's API schema, once loaded. */
  schema(): GraphQLSchema | undefined;
  /** The gateway's own limits (depth, cost, aliases...). */
  validationRules: readonly ValidationRule[];
  /** Runs a query or mutation through the gateway as this client (the federated path). */
  run(
    identity: ClientIdentity,
    query: string,
    variables: Record<string, unknown>,
    authorization: GateOutcome,
  ): Promise<CustomerResult>;
  /** The email of a CRM id, to match events that name the customer by email only. */
  emailOf(customerId: string): Promise<string | undefined>;
  logger: Logger;
}

type Refusal = { errors: GraphQLFormattedError[] };

const error = (message: string, code: string): GraphQLFormattedError => ({ message, extensions: { code } });

/**
 * Serves GraphQL over the long-lived transports (graphql-ws, Server-Sent Events): subscriptions to
 * marketing events, and queries and mutations through the normal federated path. A subscription is
 * checked like any operation (the same credentials, limits and field permissions); each event's
 * customer fields are resolved through the gateway as the subscriber, once per event for all
 * subscribers with the same selection and scopes.
 */
export class SubscriptionService {
  private readonly shared = new BoundedMap<string, Promise<CustomerResult>>(5_000);

  constructor(private readonly options: SubscriptionServiceOptions) {}

  /** A result stream for a subscription, one result for a query or mutation, or the refusal. */
  async start(
    identity: ClientIdentity,
    request: SubscriptionRequest,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult> {
    const refusal = (errors: GraphQLFormattedError[]): Refusal => {
      for (const e of errors)
        subscriptionMetrics.refused.inc({ code: String(e.extensions?.['code'] ?? 'UNKNOWN') });
      return { errors };
    };
    const schema = this.options.schema();
    if (!schema)
      return refusal([
        error('The gateway has not loaded its schema yet; retry shortly.', ErrorCode.INTERNAL_SERVER_ERROR),
      ]);
    let document: DocumentNode;
    try {
      document = parse(request.query, { maxTokens: 1_000 });
    } catch (caught) {
      const message = (caught as Error).message;
      return refusal([
        error(
          message,
          /tokens/.test(message) ? ErrorCode.OPERATION_LIMIT_EXCEEDED : ErrorCode.GRAPHQL_PARSE_FAILED,
        ),
      ]);
    }
    const invalid = validate(schema, document, [...specifiedRules, ...this.options.validationRules]);
    if (invalid.length > 0) {
      return refusal(
        invalid.map((e) =>
          isLimitError(e.message)
            ? error(e.message.replace(/^Syntax Error: /, ''), ErrorCode.OPERATION_LIMIT_EXCEEDED)
            : error(e.message, ErrorCode.GRAPHQL_VALIDATION_FAILED),
        ),
      );
    }
    const variables = request.variables ?? {};
    const operationName = request.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation)
      return refusal([
        error(
          'Name the operation to run: the document holds several.',
          ErrorCode.OPERATION_RESOLUTION_FAILURE,
        ),
      ]);

    const checked = this.options.gate.check(identity, {
      method: 'POST',
      headers: new HeaderMap(),
      search: '',
      body: { query: request.query, ...(operationName ? { operationName } : {}) },
    });
    if ('status' in checked) return refusal((checked.body as Refusal).errors);
    const authorized = (checked.input.body as { query: string }).query;
    const outcome = checked.outcome;

    if (operation.operation !== 'subscription') {
      // Queries and mutations over the socket take the same path as over HTTP.
      return this.options.run(identity, authorized, variables, outcome) as Promise<FormattedExecutionResult>;
    }
    return this.subscribe(identity, schema, authorized, variables, operationName, outcome, signal);
  }

  private subscribe(
    identity: ClientIdentity,
    schema: GraphQLSchema,
    query: string,
    variables: Record<string, unknown>,
    operationName: string | undefined,
    outcome: GateOutcome,
    signal: AbortSignal,
  ): AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult {
    const document = parse(query);
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
    const selected = getOperationAST(document, operationName);
    if (!selected)
      return {
        errors: [error('The subscription could not be resolved.', ErrorCode.OPERATION_RESOLUTION_FAILURE)],
      };
    let operation;
    try {
      operation = inlineFragments(selected, fragments, 20_000);
    } catch (caught) {
      if (caught instanceof TooLarge)
        return {
          errors: [error('The operation expands to too many fields.', ErrorCode.OPERATION_LIMIT_EXCEEDED)],
        };
      throw caught;
    }
    const root = operation.selectionSet.selections.find(
      (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename',
    );
    const field = schema.getSubscriptionType()?.getFields()['events'];
    if (!root || !field || root.name.value !== 'events') {
      return {
        errors: [
          error(
            'Subscribe to `events`, the one subscription this graph serves.',
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
          ),
        ],
      };
    }
    const args = getArgumentValues(field, root, variables) as {
      types?: EventType[];
      channel?: string;
      customerId?: string;
      after?: string;
    };
    const plan = planPayload(operation, variables);
    return this.stream(identity, plan, args, outcome, signal);
  }

  private async *stream(
    identity: ClientIdentity,
    plan: ReturnType<typeof planPayload>,
    args: { types?: EventType[]; channel?: string; customerId?: string; after?: string },
    outcome: GateOutcome,
    signal: AbortSignal,
  ): AsyncGenerator<FormattedExecutionResult> {
    const customerEmail = args.customerId ? await this.options.emailOf(args.customerId) : undefined;
    const filter = {
      ...(args.types ? { types: args.types } : {}),
      ...(args.channel ? { channel: args.channel } : {}),
      ...(args.customerId ? { customerId: args.customerId } : {}),
      ...(customerEmail ? { customerEmail } : {}),
    };
    const removals = outcome?.removals.map(forbiddenError) ?? [];
    try {
      for await (const event of this.options.hub.events(filter, args.after, signal)) {
        let customer: CustomerResult | undefined;
        const who = plan.customerQuery ? customerVariables(event) : undefined;
        if (plan.customerQuery && who) {
          const key = `${event.id}\n${scopeKey(identity)}\n${plan.customerQuery.text}\n${JSON.stringify(plan.customerQuery.variables)}`;
          let pending = this.shared.get(key);
          if (!pending) {
            pending = this.options.run(
              identity,
              plan.customerQuery.text,
              { ...plan.customerQuery.variables, ...who },
              undefined,
            );
            this.shared.set(key, pending);
          }
          customer = await pending;
        }
        const { data, errors } = buildPayload(plan, event, customer);
        if (outcome) insertNulls(data, outcome.nullPaths);
        const all = [...errors, ...removals];
        yield all.length > 0 ? { data, errors: all } : { data };
      }
    } catch (caught) {
      if (caught instanceof RangeError) {
        yield {
          errors: [
            error(`\`after\` is not a cursor this API issued: ${caught.message}`, ErrorCode.BAD_USER_INPUT),
          ],
        };
        return;
      }
      this.options.logger.error({ err: caught }, 'subscription failed');
      yield {
        errors: [
          new GraphQLError('The subscription failed; resume it with `after`.', {
            extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
          }).toJSON(),
        ],
      };
    }
  }
}
