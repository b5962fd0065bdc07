import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  print,
  visit,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { DeliveredEvent } from '../../lib/events/event.js';

/** A `customer` selection inside the subscriber's event selection, under its response key. */
interface CustomerSelection {
  key: string;
  field: FieldNode;
}

export interface PayloadPlan {
  /** Response key of the `events` root field (its alias, if any). */
  rootKey: string;
  /** The fields to fill for each event, in order (fragments flattened, @skip/@include applied). */
  fields: readonly FieldNode[];
  /** One query that resolves every `customer` selection for an event's email, or none. */
  customerQuery: { text: string; variables: Record<string, unknown> } | undefined;
}

/**
 * The variables the customer query takes, names a subscriber's own variables will not use: the
 * event's email when it has one (the key every platform shares), else its CRM id.
 */
const EMAIL_VARIABLE = '__eventCustomerEmail';
const ID_VARIABLE = '__eventCustomerId';

/** The customer query's variables for one event, or undefined when the event names nobody. */
export function customerVariables(event: DeliveredEvent): Record<string, string> | undefined {
  if (event.customer?.email) return { [EMAIL_VARIABLE]: event.customer.email };
  if (event.customer?.id) return { [ID_VARIABLE]: event.customer.id };
  return undefined;
}

const variable = (name: string) => ({ kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } }) as const;

function included(node: FieldNode, variables: Record<string, unknown>): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
  if (skip?.['if'] === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
  return include?.['if'] !== false;
}

export function flatten(set: SelectionSetNode, variables: Record<string, unknown>): FieldNode[] {
  const out: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (included(selection, variables)) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      // Every event is a MarketingEvent; a fragment on it (or on nothing) always applies.
      out.push(...flatten(selection.selectionSet, variables));
    }
  }
  return out;
}

/**
 * One query that answers each of a subscription's selections of `field` (under their response
 * keys) with the arguments the server fills per message (`arguments`: each a variable of a name the
 * subscriber's own variables will not use), and the subscriber's variables those selections use.
 * Run as the subscriber, it passes the same permissions as any query of theirs.
 */
export function childQuery(plan: {
  name: string;
  field: string;
  selections: readonly { key: string; field: FieldNode }[];
  /** `type` is the variable's type name, `!` at the end for a non-null one. */
  arguments: readonly { name: string; variable: string; type: string }[];
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
}): { text: string; variables: Record<string, unknown> } {
  const selections: FieldNode[] = plan.selections.map(({ key, field }) => ({
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: key },
    name: { kind: Kind.NAME, value: plan.field },
    arguments: plan.arguments.map((argument) => ({
      kind: Kind.ARGUMENT,
      name: { kind: Kind.NAME, value: argument.name },
      value: variable(argument.variable),
    })),
    ...(field.selectionSet ? { selectionSet: field.selectionSet } : {}),
  }));
  const used = new Set<string>();
  for (const selection of selections) {
    visit(selection, {
      Variable(node) {
        used.add(node.name.value);
      },
    });
  }
  const definitions: VariableDefinitionNode[] = [
    ...plan.arguments.map((argument): VariableDefinitionNode => ({
      kind: Kind.VARIABLE_DEFINITION,
      variable: variable(argument.variable),
      type: argument.type.endsWith('!')
        ? {
            kind: Kind.NON_NULL_TYPE,
            type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: argument.type.slice(0, -1) } },
          }
        : { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: argument.type } },
    })),
    ...(plan.operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value)),
  ];
  const query: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    name: { kind: Kind.NAME, value: plan.name },
    variableDefinitions: definitions,
    selectionSet: { kind: Kind.SELECTION_SET, selections },
  };
  return {
    text: print({ kind: Kind.DOCUMENT, definitions: [query] }),
    variables: Object.fromEntries(Object.entries(plan.variables).filter(([name]) => used.has(name))),
  };
}

/**
 * How to build each event's payload for one subscription operation (already authorized, with
 * fragments inlined): the event's own fields come from the delivered event; every `customer`
 * selection is answered by one federated query per email, run as the subscriber.
 */
export function planPayload(
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): PayloadPlan {
  const root = flatten(operation.selectionSet, variables).find((f) => f.name.value === 'events');
  if (!root?.selectionSet) throw new Error('the subscription selects no `events` fields');
  const fields = flatten(root.selectionSet, variables);
  const customers: CustomerSelection[] = fields
    .filter((f) => f.name.value === 'customer' && f.selectionSet)
    .map((field) => ({ key: field.alias?.value ?? field.name.value, field }));
  const customerQuery =
    customers.length > 0
      ? childQuery({
          name: 'EventCustomer',
          field: 'customer',
          selections: customers,
          arguments: [
            { name: 'id', variable: ID_VARIABLE, type: 'ID' },
            { name: 'email', variable: EMAIL_VARIABLE, type: 'String' },
          ],
          operation,
          variables,
        })
      : undefined;
  return { rootKey: root.alias?.value ?? 'events', fields, customerQuery };
}

/** What the subscription field's schema says each event field is, from a delivered event. */
function valueOf(event: DeliveredEvent, name: string): unknown {
  switch (name) {
    case '__typename':
      return 'MarketingEvent';
    case 'source':
      return event.source.toUpperCase();
    case 'customerId':
      return event.customer?.id ?? null;
    case 'personalData':
      return event.personal;
    case 'id':
    case 'cursor':
    case 'type':
    case 'occurredAt':
    case 'receivedAt':
    case 'processedAt':
    case 'channels':
    case 'properties':
      return event[name];
    default:
      return null;
  }
}

export interface CustomerResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/** One event's payload: its own fields, and the customer results under their keys. */
export function buildPayload(
  plan: PayloadPlan,
  event: DeliveredEvent,
  customer: CustomerResult | undefined,
): { data: Record<string, unknown>; errors: GraphQLFormattedError[] } {
  const node: Record<string, unknown> = {};
  for (const field of plan.fields) {
    const key = field.alias?.value ?? field.name.value;
    node[key] =
      field.name.value === 'customer' ? (customer?.data?.[key] ?? null) : valueOf(event, field.name.value);
  }
  const errors = (customer?.errors ?? []).map((error) => ({
    ...error,
    ...(error.path ? { path: [plan.rootKey, ...error.path] } : {}),
  }));
  return { data: { [plan.rootKey]: node }, errors };
}
