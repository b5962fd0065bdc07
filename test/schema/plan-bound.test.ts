import { describe, expect, it } from 'vitest';
import { planBound } from '../../bench/plan-bound.js';
import { PROFILE } from '../helpers/operations.js';

/**
 * bench:marketing's bound for cold Profile comes from the gateway's query plan: if the supergraph
 * changes how Profile is planned, the bound (and the target it sets) must change with it.
 */
describe("bench/plan-bound: an operation's least time from the query plan", () => {
  it("should walk Profile's plan as CRM, then commerce and email in parallel: 4 round trips", () => {
    const bound = planBound('schema/supergraph.graphql', PROFILE, 50);
    expect(bound.path).toBe('crm[2] -> (commerce[2] | email[1])');
    expect(bound.rounds).toBe(4);
    expect(bound.boundMs).toBe(200);
  });

  it('should count one round trip for a CRM fetch without lists', () => {
    const bound = planBound(
      'schema/supergraph.graphql',
      'query ($e: String!) { customer(email: $e) { id firstName } }',
      50,
    );
    expect(bound.path).toBe('crm[1]');
    expect(bound.boundMs).toBe(50);
  });
});
