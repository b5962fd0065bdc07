import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { addDays } from '../../lib/dates.js';
import { as } from '../helpers/clients.js';
import { DASHBOARD, type DashboardRow } from '../helpers/operations.js';
import { expectErrorsAt, namesPlatform } from '../helpers/outages.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { overSse, wsConnection } from '../helpers/transports.js';
import { graphql, startTestStack, type GraphQLResponse } from '../helpers/stack.js';

/**
 * Issue 12, point 2: a request's deadline, from the client's `x-request-deadline-ms` (or the
 * configured default), travels gateway -> subgraph -> connector, so a hanging platform costs the
 * caller the time it chose to give and not the 10 s upstream timeout. The proof is the error
 * itself: `upstreamCode: REQUEST_DEADLINE` with at most the time the client gave, where a call cut
 * by the upstream timeout would say "did not answer within 10000 ms".
 */
const RANGE = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };
// The sandbox holds each Shopify answer this long: longer than any timeout here, so Shopify hangs.
const HANG = { latencyMs: 120_000 };

/** Every row kept its ads and email figures; the shop's were lost to the deadline, and said so. */
function expectShopLostToDeadline(
  body: GraphQLResponse<{ campaignPerformance: DashboardRow[] }>['body'],
  givenMs: number,
) {
  const rows = body.data?.campaignPerformance ?? [];
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.ads.spend.currency).toBe('USD');
    expect(row.email).not.toBeNull();
    expect(row.commerce).toBeNull();
    expect(row.roas).toBeNull();
  }
  expectErrorsAt(
    body,
    rows.flatMap((_, i) => [
      ['campaignPerformance', i, 'commerce'],
      ['campaignPerformance', i, 'roas'],
    ]),
    { ...namesPlatform('shopify'), upstreamCode: 'REQUEST_DEADLINE' },
    ['UPSTREAM_TIMEOUT'],
  );
  for (const error of body.errors ?? []) {
    const left = /within the (\d+) ms left before the request's deadline/.exec(error.message);
    expect(left, error.message).not.toBeNull();
    expect(Number(left![1])).toBeLessThanOrEqual(givenMs);
  }
}

/**
 * One healthy Dashboard first: the first request through a fresh stack pays for code paths run for
 * the first time, all parts sharing one process, which is time a 1 s deadline cannot spare.
 */
async function warmUp(stack: Stack): Promise<void> {
  const { body } = await graphql(stack.gatewayUrl, DASHBOARD, RANGE, as('admin'));
  expect(body.errors).toBeUndefined();
}

describe('a deadline from the client while a platform hangs', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The production upstream timeout: without the deadline, each hanging call would take 10 s.
    stack = await startTestStack({ responseCache: false, ttlSeconds: 0, upstreamTimeoutMs: 10_000 });
    await warmUp(stack);
    stack.sandboxes.shopify.faults.set(HANG);
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should answer a Dashboard with a 1 s deadline header with the shop fields cut by the deadline, not the timeout', async () => {
    const { status, body } = await graphql<{ campaignPerformance: DashboardRow[] }>(
      stack.gatewayUrl,
      DASHBOARD,
      RANGE,
      as('admin', { 'x-request-deadline-ms': '1000' }),
    );
    expect(status).toBe(200);
    expectShopLostToDeadline(body, 1000);
  });

  it('should keep the deadline given over SSE (header) and graphql-ws (extensions) too', async () => {
    const body = { query: DASHBOARD, variables: RANGE };
    const sse = await overSse(stack.origins.gateway, as('admin', { 'x-request-deadline-ms': '1000' }), body);
    const ws = wsConnection(stack.origins.gateway, as('admin'));
    try {
      const overWs = await ws.run({ ...body, extensions: { 'x-request-deadline-ms': 1000 } });
      for (const outcome of [sse, overWs]) {
        expect(outcome.status).toBe(200);
        expectShopLostToDeadline(
          outcome as GraphQLResponse<{ campaignPerformance: DashboardRow[] }>['body'],
          1000,
        );
      }
    } finally {
      await ws.close();
    }
  });

  it('should refuse a deadline header that is not a whole number of milliseconds', async () => {
    for (const value of ['soon', '0', '-5', '1.5']) {
      const { status, body } = await graphql(
        stack.gatewayUrl,
        DASHBOARD,
        RANGE,
        as('admin', { 'x-request-deadline-ms': value }),
      );
      expect(status, value).toBe(400);
      expect(body.errors?.[0]).toMatchObject({
        extensions: { code: 'BAD_REQUEST' },
        message: `\`x-request-deadline-ms\` must be a whole number of milliseconds of at least 1 (more than 30000 counts as 30000), got "${value}".`,
      });
    }
  });
});

describe('the configured default deadline while a platform hangs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({
      responseCache: false,
      ttlSeconds: 0,
      upstreamTimeoutMs: 10_000,
      requestDeadline: { defaultMs: 1_500, maxMs: 30_000 },
    });
    await warmUp(stack);
    stack.sandboxes.shopify.faults.set(HANG);
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should give a request without a deadline header the default deadline', async () => {
    const { status, body } = await graphql<{ campaignPerformance: DashboardRow[] }>(
      stack.gatewayUrl,
      DASHBOARD,
      RANGE,
      as('admin'),
    );
    expect(status).toBe(200);
    expectShopLostToDeadline(body, 1_500);
  });
});
