import autocannon from 'autocannon';
import type { Stack } from '../cli/stack.js';
import { addDays } from '../lib/dates.js';
import { CUSTOMERS, DASHBOARD } from '../test/helpers/operations.js';
import { bench, BENCH_ANCHOR_DATE, benchStack, ms, post, table, verdict } from './harness.js';

/**
 * `npm run bench:auth`: what field permissions cost. Two stacks in this process, identical but for
 * field permissions (gateway operation gate and graphql-shield in every subgraph) on or off; one
 * client holding every scope, so both answer the same data. Authentication and every other check
 * stay on in both. Response cache off and record caches warm, so the figures are the gateway's
 * and the subgraphs' own work. Rounds alternate between the two stacks so drift hits both.
 */
const seconds = Number(process.env['BENCH_SECONDS'] ?? 8);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const rounds = 2;
const range = { since: addDays(BENCH_ANCHOR_DATE, -29), until: BENCH_ANCHOR_DATE };
const operations = [
  { name: 'Dashboard', query: DASHBOARD, variables: range },
  { name: 'Customers(first: 500)', query: CUSTOMERS, variables: { first: 500 } },
];
// Upstream limits out of the way: this measures CPU spent on permissions, not platform budgets.
const unlimited = {
  hubspot: { per10s: 1_000_000 },
  shopify: { bucketSize: 1_000_000, leakPerSecond: 1_000_000 },
};

async function load(stack: Stack, query: string, variables: Record<string, unknown>) {
  const result = await autocannon({
    url: stack.gatewayUrl,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...bench.headers },
    body: JSON.stringify({ query, variables }),
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

const stacks = {
  on: await benchStack({ rateLimits: false, plans: unlimited, responseCache: false }),
  off: await benchStack({
    rateLimits: false,
    plans: unlimited,
    responseCache: false,
    access: { auth: { mode: 'production', clientsFile: bench.clientsFile }, fieldPermissions: false },
  }),
};
let allMet = true;
try {
  for (const stack of Object.values(stacks)) {
    for (const op of operations) {
      const warm = await post(stack.gatewayUrl, op.query, op.variables, bench.headers);
      if (warm.body.errors)
        throw new Error(`warm-up of ${op.name} failed: ${JSON.stringify(warm.body.errors)}`);
    }
  }
  const rows: (string | number)[][] = [];
  for (const op of operations) {
    const totals = { on: { rps: 0, p99: 0, bad: 0 }, off: { rps: 0, p99: 0, bad: 0 } };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const r = await load(stacks[mode], op.query, op.variables);
        totals[mode].rps += r.rps / rounds;
        totals[mode].p99 = Math.max(totals[mode].p99, r.p99);
        totals[mode].bad += r.non2xx + r.errors;
      }
    }
    const ratio = totals.on.rps / totals.off.rps;
    const met = ratio >= 0.9 && totals.on.bad === 0 && totals.off.bad === 0;
    allMet &&= met;
    rows.push([
      op.name,
      totals.off.rps.toFixed(0),
      ms(totals.off.p99),
      totals.on.rps.toFixed(0),
      ms(totals.on.p99),
      `${(ratio * 100).toFixed(1)}%`,
      totals.on.bad + totals.off.bad,
      verdict(met),
    ]);
  }
  console.log(
    `\n${connections} connections, ${rounds} alternating rounds of ${seconds} s per stack and operation; one client with every scope.`,
  );
  console.log(
    table(
      [
        'operation',
        'off req/s',
        'off p99 ms',
        'on req/s',
        'on p99 ms',
        'on/off',
        'failed requests',
        'cost <= 10%',
      ],
      rows,
    ),
  );
  console.log(`\nTarget (permissions cost at most 10% throughput on both): ${verdict(allMet)}`);
} finally {
  await stacks.on.close();
  await stacks.off.close();
}
process.exit(allMet ? 0 : 1);
