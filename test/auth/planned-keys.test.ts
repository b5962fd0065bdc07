import { readFileSync } from 'node:fs';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PlannedKeyFields } from '../../gateway/auth/planned-keys.js';
import { readDeclarations } from '../../lib/auth/requirements.js';

/** Which key fields of a subgraph fetch the gateway's token calls `planned` (added by the planner). */
describe('planned key fields', () => {
  const supergraph = parse(readFileSync('schema/supergraph.graphql', 'utf8'));
  const planned = new PlannedKeyFields(supergraph, readDeclarations(supergraph));
  const client = (source: string) => {
    const document = parse(source);
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (!operation) throw new Error('no operation');
    return { document, operation };
  };
  // What the query planner sends crm for a page of customers joined to email by email.
  const crmFetch =
    'query Joined__crm__0 { customers(first: 2) { edges { node { __typename id email lifecycleStage } } } }';

  it('should name a key field the fetch selects and the client does not', () => {
    const op = client(
      'query Joined { customers(first: 2) { edges { node { id lifecycleStage emailSubscription { status } } } } }',
    );
    expect(planned.plannedIn(crmFetch, op)).toEqual(['Customer.email']);
  });

  it('should not name a key field the client selects itself, so the subgraph checks its own scopes', () => {
    const op = client('{ customers(first: 2) { edges { node { id email emailSubscription { status } } } } }');
    expect(planned.plannedIn(crmFetch, op)).toEqual([]);
    // Through a fragment as well (this client asks for email but not id, which the fetch adds).
    const viaFragment = client(
      'query { customers(first: 2) { edges { node { ...F } } } } fragment F on Customer { email }',
    );
    expect(planned.plannedIn(crmFetch, viaFragment)).toEqual(['Customer.id']);
  });

  it('should type the selections of an _entities fetch by their inline fragments', () => {
    const entitiesFetch =
      'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Customer { __typename email lifecycleStage } } }';
    const op = client('{ events(first: 1) { edges { node { customer { lifecycleStage } } } } }');
    expect(planned.plannedIn(entitiesFetch, op)).toEqual(['Customer.email']);
  });

  it('should name nothing when the fetch selects no key field', () => {
    expect(
      planned.plannedIn('{ customers(first: 2) { edges { cursor } } }', client('{ __typename }')),
    ).toEqual([]);
  });
});
