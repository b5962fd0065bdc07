import { readFileSync } from 'node:fs';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type PlanNode } from '@apollo/query-planner';
import { Kind, parse, visit } from 'graphql';

/**
 * The least time an operation can take when every record cache is empty: the gateway's query plan
 * (the planner @apollo/gateway runs, on the committed supergraph), walked as it executes (a
 * Sequence adds its steps, a Parallel takes its slowest branch), with each subgraph fetch costing
 * the upstream round trips it cannot avoid one after another under its platform's API
 * (../shared/reference/platform-apis.md). Nothing here is measured: it is what the plan and the
 * APIs allow, for bench:marketing to hold measured latencies against.
 */

/** Upstream calls a fetch makes one after another, at the least, and why. */
interface Rounds {
  rounds: number;
  why: string;
}

/**
 * Per subgraph, from the fields the fetch selects. Lookups of many keys are batched (HubSpot batch
 * read, Shopify search of 50 emails, Mailchimp GETs in parallel), so only data dependencies count.
 */
const FETCH_ROUNDS: Record<string, (fields: ReadonlySet<string>, types: ReadonlySet<string>) => Rounds> = {
  crm: (fields) =>
    fields.has('lists')
      ? {
          rounds: 2,
          why: 'contact batch read by email, then its list memberships by contact id (list names: cached definitions)',
        }
      : { rounds: 1, why: 'contact batch read' },
  email: (_fields, types) =>
    types.has('CampaignPerformance')
      ? { rounds: 1, why: 'sent campaigns of the range' }
      : { rounds: 1, why: 'member GET by subscriber hash' },
  commerce: (fields, types) =>
    types.has('CampaignPerformance')
      ? { rounds: 1, why: 'orders of the range' }
      : fields.has('orders') || fields.has('lastOrderAt')
        ? { rounds: 2, why: "customer search by email, then the customer's orders by customer id" }
        : { rounds: 1, why: 'customer search by email' },
  ads: () => ({ rounds: 1, why: 'insights read' }),
};

export interface PlanBound {
  /** Round trips on the plan's longest path. */
  rounds: number;
  boundMs: number;
  /** The plan as walked: `crm[2] -> (commerce[2] | email[1])`. */
  path: string;
  /** One line per fetch: subgraph, round trips, why. */
  fetches: string[];
}

/** The fields a fetch selects and the entity types it asks them of. */
function selection(operation: string): [Set<string>, Set<string>] {
  const fields = new Set<string>();
  const types = new Set<string>();
  visit(parse(operation), {
    [Kind.FIELD]: (node) => {
      fields.add(node.name.value);
    },
    [Kind.INLINE_FRAGMENT]: (node) => {
      if (node.typeCondition) types.add(node.typeCondition.name.value);
    },
  });
  return [fields, types];
}

export function planBound(supergraphFile: string, query: string, latencyMs: number): PlanBound {
  const supergraph = Supergraph.build(readFileSync(supergraphFile, 'utf8'), { supportedFeatures: null });
  const planner = new QueryPlanner(supergraph);
  const plan = planner.buildQueryPlan(operationFromDocument(supergraph.schema, parse(query)));
  const fetches: string[] = [];
  const walk = (node: PlanNode): { rounds: number; path: string } => {
    switch (node.kind) {
      case 'Fetch': {
        const rule = FETCH_ROUNDS[node.serviceName];
        if (!rule) throw new Error(`plan-bound: no round-trip rule for subgraph ${node.serviceName}`);
        const { rounds, why } = rule(...selection(node.operation));
        fetches.push(`${node.serviceName}: ${rounds} (${why})`);
        return { rounds, path: `${node.serviceName}[${rounds}]` };
      }
      case 'Flatten':
        return walk(node.node);
      case 'Sequence': {
        const steps = node.nodes.map(walk);
        return {
          rounds: steps.reduce((sum, s) => sum + s.rounds, 0),
          path: steps.map((s) => s.path).join(' -> '),
        };
      }
      case 'Parallel': {
        const branches = node.nodes.map(walk);
        return {
          rounds: Math.max(0, ...branches.map((b) => b.rounds)),
          path: `(${branches.map((b) => b.path).join(' | ')})`,
        };
      }
      default:
        throw new Error(`plan-bound: plan node ${node.kind} is not handled`);
    }
  };
  if (plan.node?.kind === 'Subscription') throw new Error('plan-bound: subscriptions have no bound');
  const walked = plan.node ? walk(plan.node) : { rounds: 0, path: '(nothing to fetch)' };
  return { rounds: walked.rounds, boundMs: walked.rounds * latencyMs, path: walked.path, fetches };
}
