import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import type { PlatformName as Platform } from '../../platforms/registry.js';
import { addDays } from '../../lib/dates.js';
import { as } from '../helpers/clients.js';
import { CUSTOMERS, DASHBOARD, PROFILE } from '../helpers/operations.js';
import { expectErrorsAt, namesPlatform, withoutPlatform } from '../helpers/outages.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';

/**
 * Issue 12, point 1: one platform failing costs only its own fields. Each platform's sandbox in
 * turn answers every call with 500; Profile, Dashboard and Customers still carry every field the
 * other platforms serve, exactly as they were, and an error naming the platform and its subgraph
 * sits at each field that was lost.
 */
const OPERATIONS = {
  Profile: PROFILE,
  Customers: CUSTOMERS,
  Dashboard: DASHBOARD,
} as const;

// A 500 is UPSTREAM_ERROR; once the platform's breaker opens, calls are refused with UPSTREAM_UNAVAILABLE.
const OUTAGE_CODES = ['UPSTREAM_ERROR', 'UPSTREAM_UNAVAILABLE'];

describe.each(['shopify', 'mailchimp', 'hubspot', 'meta'] as const)(
  'with %s answering every call with 500',
  (platform: Platform) => {
    let stack: Stack;
    const variables: Record<keyof typeof OPERATIONS, Record<string, unknown>> = {
      Profile: {},
      Customers: { first: 5 },
      Dashboard: { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE },
    };
    const baseline = {} as Record<keyof typeof OPERATIONS, Record<string, unknown>>;

    beforeAll(async () => {
      // No record cache and no response cache: every answer during the outage is read from the platforms.
      stack = await startTestStack({ responseCache: false, ttlSeconds: 0, upstreamMaxRetries: 0 });
      const shopper = stack.world.customers.find((c) => c.audience && c.shop)!;
      variables.Profile = { email: shopper.person.email };
      for (const [name, query] of Object.entries(OPERATIONS) as [keyof typeof OPERATIONS, string][]) {
        const { body } = await graphql(stack.gatewayUrl, query, variables[name], as('admin'));
        expect(body.errors, name).toBeUndefined();
        baseline[name] = body.data as Record<string, unknown>;
      }
      stack.sandboxes[platform].faults.set({ errorRate: 1, errorStatus: 500 });
    });
    afterAll(async () => {
      await stack.close();
    });

    it.each(Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[])(
      `should keep every field of %s that ${platform} does not serve, with the error at each lost one`,
      async (name) => {
        const { status, body } = await graphql(
          stack.gatewayUrl,
          OPERATIONS[name],
          variables[name],
          as('admin'),
        );
        expect(status).toBe(200);
        const expected = withoutPlatform(name, baseline[name], platform);
        expect(body.data ?? null).toEqual(expected.data);
        if (expected.errorPaths.length === 0) expect(body.errors).toBeUndefined();
        else expectErrorsAt(body, expected.errorPaths, namesPlatform(platform), OUTAGE_CODES);
      },
    );
  },
);
