import type { Stack } from '../cli/stack.js';
import { bench, benchStack, ms, percentile, pool, post, resetUpstream, table, verdict } from './harness.js';

/**
 * `npm run bench:limits`: the HubSpot sandbox at HubSpot's real Free/Starter limit (100 requests
 * per rolling 10 s) and 2,000 profile look-ups for distinct customers, 50 in flight.
 * Phase 1 looks customers up by email with the default 20 s request budget (batchable: concurrent
 * look-ups share batch reads). Phase 2 also asks each customer's lists, which HubSpot can only
 * answer one contact per call, from a client that gives each request 2 s: demand is twenty times
 * the limit, so calls must queue or fail fast, and never reach HubSpot as 429s.
 */
const LOOKUP = /* GraphQL */ `
  query ProfileLookup($email: String!) {
    customer(email: $email) {
      id
      email
      firstName
      lastName
      lifecycleStage
      updatedAt
    }
  }
`;
const WITH_LISTS = /* GraphQL */ `
  query ProfileWithLists($email: String!) {
    customer(email: $email) {
      id
      email
      lists {
        id
        name
      }
    }
  }
`;
const lookups = 2_000;
const concurrency = 50;

interface Outcome {
  ms: number;
  outcome: 'ok' | 'UPSTREAM_RATE_LIMITED' | string;
}

async function run(stack: Stack, query: string, offset: number): Promise<Outcome[]> {
  const customers = stack.world.customers.slice(offset, offset + lookups);
  return pool(customers, concurrency, async (c) => {
    const r = await post(stack.gatewayUrl, query, { email: c.person.email }, bench.headers);
    const code = r.body.errors?.[0]?.extensions?.['code'];
    return { ms: r.ms, outcome: code === undefined ? 'ok' : String(code) };
  });
}

let allMet = true;
const rows: (string | number)[][] = [];
for (const [name, query, budgetMs] of [
  ['1: look-up by email', LOOKUP, 20_000],
  ['2: with lists (1 call each)', WITH_LISTS, 2_000],
] as const) {
  const stack = await benchStack({
    world: { seed: 42, customers: 2_000, anchorDate: '2026-11-28' },
    plans: { hubspot: { per10s: 100 } },
    responseCache: false,
    subgraphRequestBudgetMs: budgetMs,
  });
  try {
    resetUpstream(stack);
    const started = performance.now();
    const outcomes = await run(stack, query, 0);
    const seconds = (performance.now() - started) / 1000;
    const hubspot = stack.sandboxes.hubspot.stats;
    const snapshot = hubspot.snapshot();
    const upstream429 = Object.values(snapshot.endpoints).reduce((s, e) => s + (e.statuses['429'] ?? 0), 0);
    const peak = hubspot.peakInWindow(10_000);
    const ok = outcomes.filter((o) => o.outcome === 'ok');
    const limited = outcomes.filter((o) => o.outcome === 'UPSTREAM_RATE_LIMITED');
    const other = outcomes.length - ok.length - limited.length;
    const slowest = percentile(
      outcomes.map((o) => o.ms),
      100,
    );
    rows.push([
      name,
      `${budgetMs / 1000} s`,
      `${seconds.toFixed(1)} s`,
      ok.length,
      limited.length,
      other,
      limited.length > 0
        ? ms(
            percentile(
              limited.map((o) => o.ms),
              99,
            ),
          )
        : '-',
      ms(slowest),
      snapshot.total,
      peak,
      upstream429,
    ]);
    allMet &&= upstream429 === 0 && other === 0 && peak <= 100 && slowest <= budgetMs + 500;
  } finally {
    await stack.close();
  }
}
console.log(
  `\nHubSpot sandbox at 100 requests per rolling 10 s; ${lookups} distinct customers per phase, ${concurrency} in flight.`,
);
console.log(
  table(
    [
      'phase',
      'budget',
      'took',
      'succeeded',
      'UPSTREAM_RATE_LIMITED',
      'other errors',
      'limited p99 ms',
      'slowest ms',
      'HubSpot calls',
      'peak per 10 s',
      '429s at HubSpot',
    ],
    rows,
  ),
);
console.log(
  `\nTarget (zero 429s reach HubSpot or a client, every request succeeds or fails with UPSTREAM_RATE_LIMITED within its budget, peak <= 100 per 10 s): ${verdict(allMet)}`,
);
process.exit(allMet ? 0 : 1);
