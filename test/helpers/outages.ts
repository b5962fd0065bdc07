import { expect } from 'vitest';
import type { Platform } from '../../lib/errors.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import { ROLE_DECLARATIONS } from '../../subgraphs/registry.js';
import type { GraphQLResponse } from './stack.js';

/** The subgraph that wraps each platform. */
export const SUBGRAPH_OF = Object.fromEntries(
  ROLE_DECLARATIONS.map((role) => [role.platform, role.name]),
) as Record<Platform, PlatformSubgraphName>;

/**
 * Which platform serves each field the contract operations select, per object they select it on:
 * what a platform's outage may cost, and all it may cost.
 */
export const OWNER = {
  customer: {
    id: 'hubspot',
    email: 'hubspot',
    firstName: 'hubspot',
    lastName: 'hubspot',
    lifecycleStage: 'hubspot',
    lists: 'hubspot',
    emailSubscription: 'mailchimp',
    emailEngagement: 'mailchimp',
    ordersCount: 'shopify',
    lifetimeValue: 'shopify',
    lastOrderAt: 'shopify',
    orders: 'shopify',
  },
  campaignRow: {
    key: 'meta',
    since: 'meta',
    until: 'meta',
    ads: 'meta',
    email: 'mailchimp',
    commerce: 'shopify',
    roas: 'shopify',
  },
} as const satisfies Record<string, Record<string, Platform>>;

type Path = (string | number)[];

/**
 * An answer as it must be when `platform` is down: `baseline` (the healthy answer) with the
 * platform's own fields null, and the paths where an error must be. A root owned by the platform is
 * lost whole: null when the field is nullable, the whole `data` otherwise.
 */
export function withoutPlatform(
  operation: 'Profile' | 'Customers' | 'Dashboard',
  baseline: Record<string, unknown>,
  platform: Platform,
): { data: Record<string, unknown> | null; errorPaths: Path[] } {
  const copy = structuredClone(baseline) as Record<string, unknown>;
  const errorPaths: Path[] = [];
  const strip = (object: Record<string, unknown>, owners: Record<string, Platform>, at: Path) => {
    for (const field of Object.keys(object)) {
      if (owners[field] !== platform) continue;
      object[field] = null;
      errorPaths.push([...at, field]);
    }
  };
  switch (operation) {
    case 'Profile': {
      if (platform === 'hubspot') return { data: { customer: null }, errorPaths: [['customer']] };
      strip(copy['customer'] as Record<string, unknown>, OWNER.customer, ['customer']);
      return { data: copy, errorPaths };
    }
    case 'Customers': {
      if (platform === 'hubspot') return { data: null, errorPaths: [['customers']] };
      const edges = (copy['customers'] as { edges: { node: Record<string, unknown> }[] }).edges;
      edges.forEach((edge, i) => strip(edge.node, OWNER.customer, ['customers', 'edges', i, 'node']));
      return { data: copy, errorPaths };
    }
    case 'Dashboard': {
      if (platform === 'meta') return { data: null, errorPaths: [['campaignPerformance']] };
      const rows = copy['campaignPerformance'] as Record<string, unknown>[];
      rows.forEach((row, i) => strip(row, OWNER.campaignRow, ['campaignPerformance', i]));
      return { data: copy, errorPaths };
    }
  }
}

/**
 * Every error carries `extensions` (the platform, the subgraph) and one of `codes`, and the errors
 * sit exactly at `errorPaths` (one or more errors per path, none elsewhere).
 */
export function expectErrorsAt(
  body: GraphQLResponse['body'],
  errorPaths: Path[],
  extensions: Record<string, unknown>,
  codes: readonly string[],
): void {
  const errors = body.errors ?? [];
  const key = (path: Path | undefined) => JSON.stringify(path ?? null);
  expect([...new Set(errors.map((e) => key(e.path)))].sort()).toEqual(errorPaths.map(key).sort());
  for (const error of errors) {
    expect(error.extensions, JSON.stringify(error)).toMatchObject(extensions);
    expect(codes, JSON.stringify(error)).toContain(error.extensions?.['code']);
  }
}

/** What names a platform's failure in an error: the platform and the subgraph that wraps it. */
export const namesPlatform = (platform: Platform) => ({ platform, subgraph: SUBGRAPH_OF[platform] });
