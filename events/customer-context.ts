import type { CustomerRef } from '../lib/events/event.js';
import type { CustomerContext, RoutingRule } from './routing.js';

/** A GraphQL result as the pipeline reads it: data, or errors with a message. */
export interface GraphResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

/**
 * Runs a query against the federated graph as the event processor (through the gateway's own
 * plan, caches and subgraph permissions, never around them). In the gateway process it executes
 * in place; a worker would send it to a gateway.
 */
export type GraphRead = (query: string, variables: Record<string, unknown>) => Promise<GraphResult>;

/**
 * The customer context the routing rules ask about, and nothing more: each field read costs calls
 * to a platform with its own rate limit (lifetime value is Shopify's, at 2 calls/s on a
 * standard plan), so fields no rule uses are not selected.
 */
export function routingQuery(rules: readonly RoutingRule[]): string {
  const uses = (key: 'lifecycleStages' | 'inLists' | 'lifetimeValueAtLeast') =>
    rules.some((rule) => rule.when.customer?.[key] !== undefined);
  const fields = [
    'id',
    'email',
    uses('lifecycleStages') ? 'lifecycleStage' : '',
    uses('inLists') ? 'lists { name }' : '',
    uses('lifetimeValueAtLeast') ? 'lifetimeValue { amount }' : '',
  ].filter(Boolean);
  return `query EventRoutingContext($id: ID, $email: String) { customer(id: $id, email: $email) { ${fields.join(' ')} } }`;
}

interface RoutingCustomer {
  id: string;
  email: string | null;
  lifecycleStage?: string | null;
  lists?: { name: string }[] | null;
  lifetimeValue?: { amount: string } | null;
}

/** Reads an event's customer for the routing rules; null when the graph knows nobody by that ref. */
export function customerContextReader(
  rules: readonly RoutingRule[],
  read: GraphRead,
): (ref: CustomerRef) => Promise<CustomerContext | null> {
  const query = routingQuery(rules);
  return async (ref) => {
    const result = await read(query, ref.id ? { id: ref.id } : { email: ref.email });
    // Any error (a platform down, a timeout) is transient for routing: the event is retried.
    if (result.errors?.length)
      throw new Error(`reading the customer failed: ${result.errors[0]?.message ?? 'unknown error'}`);
    const customer = result.data?.['customer'] as RoutingCustomer | null | undefined;
    if (!customer) return null;
    return {
      id: customer.id,
      email: customer.email,
      lifecycleStage: customer.lifecycleStage ?? null,
      lists: (customer.lists ?? []).map((list) => list.name),
      lifetimeValue: customer.lifetimeValue?.amount ?? null,
    };
  };
}
