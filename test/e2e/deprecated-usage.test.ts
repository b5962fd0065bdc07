import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { deprecatedCoordinates } from '../../gateway/plugins/deprecated-usage.js';
import { addDays } from '../../lib/dates.js';
import { as } from '../helpers/clients.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';

describe('deprecated usage: what an operation uses', () => {
  const schema = buildSchema(`
    type Query {
      report(range: String @deprecated(reason: "Use since."), since: String, kind: Kind): Report
    }
    enum Kind { DAILY OLD @deprecated(reason: "Use DAILY.") }
    type Report { rate: Float @deprecated(reason: "Use clickRate."), clickRate: Float }
  `);

  it('should find deprecated fields behind aliases, fragments and inline fragments, once each', () => {
    const document = parse(`
      query Uses { report { a: rate ...F ... on Report { rate clickRate } } }
      fragment F on Report { rate }
    `);
    expect([...deprecatedCoordinates(schema, document, 'Uses')]).toEqual(['Report.rate']);
  });

  it('should find deprecated arguments and enum values written in the operation', () => {
    const document = parse('query Old { report(range: "x", kind: OLD) { clickRate } }');
    expect([...deprecatedCoordinates(schema, document, 'Old')].sort()).toEqual([
      'Kind.OLD',
      'Query.report(range:)',
    ]);
  });

  it('should look only at the operation that runs', () => {
    const document = parse('query New { report { clickRate } } query Legacy { report { rate } }');
    expect([...deprecatedCoordinates(schema, document, 'New')]).toEqual([]);
    expect([...deprecatedCoordinates(schema, document, 'Legacy')]).toEqual(['Report.rate']);
  });
});

describe('deprecated usage through the gateway, in /metrics', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ customers: 80 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const range = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };
  const LEGACY = `query LegacyAdReport($since: Date!, $until: Date!) {
    adCampaigns(since: $since, until: $until) { id stats { ctr clickRate } }
  }`;
  const CURRENT = `query AdReport($since: Date!, $until: Date!) {
    adCampaigns(since: $since, until: $until) { id stats { clickRate } }
  }`;

  const metrics = async () => {
    const response = await fetch(`${stack.origins.gateway}/metrics`, { headers: as('admin') });
    expect(response.status).toBe(200);
    return response.text();
  };
  const countOf = (text: string, client: string, operation: string) => {
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('graphql_deprecated_field_usage_total{') &&
          l.includes('field="AdStats.ctr"') &&
          l.includes(`client="${client}"`) &&
          l.includes(`operation="${operation}"`),
      );
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  it('should still resolve the retired field, with the value of its replacement', async () => {
    const response = await graphql<{
      adCampaigns: { stats: { ctr: number | null; clickRate: number | null } }[];
    }>(stack.gatewayUrl, LEGACY, range, as('reporting-dashboard'));
    expect(response.body.errors ?? []).toEqual([]);
    const campaigns = response.body.data!.adCampaigns;
    expect(campaigns.length).toBeGreaterThan(0);
    for (const campaign of campaigns) expect(campaign.stats.ctr).toBe(campaign.stats.clickRate);
  });

  it('should count each use per client and operation name, cache hits included, and nothing else', async () => {
    const before = await metrics();
    const dashboardBefore = countOf(before, 'reporting-dashboard', 'LegacyAdReport');
    const adminBefore = countOf(before, 'admin', 'LegacyAdReport');
    // Twice as the dashboard (the second answer may come from the response cache), once as admin,
    // and the current operation, which uses nothing deprecated.
    for (const client of ['reporting-dashboard', 'reporting-dashboard', 'admin'] as const) {
      const response = await graphql(stack.gatewayUrl, LEGACY, range, as(client));
      expect(response.body.errors ?? []).toEqual([]);
    }
    const current = await graphql(stack.gatewayUrl, CURRENT, range, as('reporting-dashboard'));
    expect(current.body.errors ?? []).toEqual([]);

    const after = await metrics();
    expect(countOf(after, 'reporting-dashboard', 'LegacyAdReport') - dashboardBefore).toBe(2);
    expect(countOf(after, 'admin', 'LegacyAdReport') - adminBefore).toBe(1);
    expect(countOf(after, 'reporting-dashboard', 'AdReport')).toBe(0);
    expect(after).toContain('# TYPE graphql_deprecated_field_usage_total counter');
  });
});
