import {
  getArgumentValues,
  getOperationAST,
  GraphQLError,
  Kind,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import pLimit, { type LimitFunction } from 'p-limit';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { ErrorCode } from '../../lib/errors.js';
import type { EventType } from '../../lib/events/event.js';
import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import { SubscriberTooSlow, type EventHub } from '../../events/hub.js';
import { inlineFragments, insertNulls, TooLarge } from '../auth/authorize.js';
import { forbiddenError, type GateOutcome } from '../auth/operation-gate.js';
import { scopeKey, type ClientIdentity } from '../identity.js';
import type { AdmittedOperation } from '../pipeline/types.js';
import { StatusWatch } from '../../monitoring/status-watch.js';
import { planStatusPayload, statusChanges } from './integration-status.js';
import { buildPayload, customerVariables, planPayload, type CustomerResult } from './payload.js';

export const subscriptionMetrics = {
  started: new Counter('subscriptions_started_total', 'Subscriptions started, by transport.', ['transport']),
};

export interface SubscriptionServiceOptions {
  hub: EventHub;
  /** The gateway's API schema, once loaded. */
  schema(): GraphQLSchema | undefined;
  /** Runs a query through the gateway as this client (the federated path, its permissions). */
  run(identity: ClientIdentity, query: string, variables: Record<string, unknown>): Promise<CustomerResult>;
  /** The email of a CRM id, to match events that name the customer by email only. */
  emailOf(customerId: string): Promise<string | undefined>;
  /**
   * Customer reads for events in flight at once, over every subscription of this instance: the
   * bound on what one event can cost however many distinct selections are subscribed. @default 16
   */
  maxConcurrentReads?: number;
  /** Status changes of this process's health model, for `integrationStatusChanged`. @default one evaluated every second */
  statusWatch?: StatusWatch;
  logger: Logger;
}

/** The subscription fields the gateway streams itself. */
const SERVED = ['events', 'integrationStatusChanged'];

const error = (message: string, code: string): GraphQLFormattedError => ({ message, extensions: { code } });

/**
 * Streams marketing events (and, for `integrationStatusChanged`, the health model's status
 * changes) to a subscription the pipeline admitted (credentials, rate limit, limits, field
 * permissions and the subscription caps are all behind it). Each event's customer
 * fields are resolved through the gateway as the subscriber, once per event for all subscribers
 * with the same selection and scopes, and never more than `maxConcurrentReads` at once.
 */
export class SubscriptionService {
  private readonly shared = new BoundedMap<string, Promise<CustomerResult>>(5_000);
  private readonly reads: LimitFunction;
  private readonly statusWatch: StatusWatch;

  constructor(private readonly options: SubscriptionServiceOptions) {
    this.reads = pLimit(options.maxConcurrentReads ?? 16);
    this.statusWatch = options.statusWatch ?? new StatusWatch();
  }

  /** The event stream of an admitted subscription, or the errors that stop it before it starts. */
  open(
    admitted: AdmittedOperation,
    signal: AbortSignal,
  ): AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult {
    const schema = this.options.schema();
    const selected = getOperationAST(admitted.document, admitted.operationName);
    if (!schema || !selected)
      return {
        errors: [error('The subscription could not be resolved.', ErrorCode.OPERATION_RESOLUTION_FAILURE)],
      };
    const fragments = new Map(
      admitted.document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
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
    const field = root ? schema.getSubscriptionType()?.getFields()[root.name.value] : undefined;
    if (!root || !field || !SERVED.includes(root.name.value)) {
      return {
        errors: [
          error(
            'Subscribe to `events` or `integrationStatusChanged`, the subscriptions this graph serves.',
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
          ),
        ],
      };
    }
    if (root.name.value === 'integrationStatusChanged') {
      const { names } = getArgumentValues(field, root, admitted.variables) as { names?: string[] | null };
      return statusChanges({
        watch: this.statusWatch,
        plan: planStatusPayload(operation, root, admitted.variables),
        names: names ?? undefined,
        identity: admitted.identity,
        outcome: admitted.authorization,
        run: this.options.run,
        signal,
      });
    }
    const args = getArgumentValues(field, root, admitted.variables) as {
      types?: EventType[] | null;
      channel?: string | null;
      customerId?: string | null;
      after?: string | null;
    };
    const plan = planPayload(operation, admitted.variables);
    return this.stream(admitted.identity, plan, args, admitted.authorization, signal);
  }

  private async *stream(
    identity: ClientIdentity,
    plan: ReturnType<typeof planPayload>,
    args: {
      types?: EventType[] | null;
      channel?: string | null;
      customerId?: string | null;
      after?: string | null;
    },
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
      // `after: null` means "from now", like an absent argument.
      for await (const event of this.options.hub.events(filter, args.after ?? undefined, signal)) {
        let customer: CustomerResult | undefined;
        const who = plan.customerQuery ? customerVariables(event) : undefined;
        if (plan.customerQuery && who) {
          const key = `${event.id}\n${scopeKey(identity)}\n${plan.customerQuery.text}\n${JSON.stringify(plan.customerQuery.variables)}`;
          let pending = this.shared.get(key);
          if (!pending) {
            const query = plan.customerQuery;
            pending = this.reads(() =>
              this.options.run(identity, query.text, { ...query.variables, ...who }),
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
      if (caught instanceof SubscriberTooSlow) {
        yield { errors: [error(caught.message, ErrorCode.SUBSCRIBER_TOO_SLOW)] };
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
