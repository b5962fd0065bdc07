import autocannon from 'autocannon';
import type { Stack } from '../cli/stack.js';
import { addDays } from '../lib/dates.js';
import { CUSTOMERS, DASHBOARD } from '../test/helpers/operations.js';
import { bench, BENCH_ANCHOR_DATE, benchStack, median, ms, post, table, verdict } from './harness.js';

/**
 * `npm run bench:auth`: what field permissions cost. Two stacks in this process, identical but for
 * field permissions (gateway operation gate and graphql-shield in every subgraph) on or off; one
 * client holding every scope, so both answer the same data. Authentication and every other check
 * stay on in both. Response cache off and record caches warm, so the figures are the gateway's
 * and the subgraphs' own work. Rounds alternate between the two stacks so drift hits both; each
 * round gives an on/off ratio, and the target is judged on their median (min and max printed, as
 * the spread on a shared machine is as large as the cost measured). CPU per request (this process's
 * user + system time over the requests answered, the load generator included, the same for both)
 * is printed beside it: it moves less than throughput with what else the machine runs.
 */
const seconds = Number(process.env['BENCH_SECONDS'] ?? 8);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** Issue 17: field permissions cost at most 5% throughput. */
const maxCost = 0.05;
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
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url: stack.gatewayUrl,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...bench.headers },
    body: JSON.stringify({ query, variables }),
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    rps: result.requests.average,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total),
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
  const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  for (const op of operations) {
    const totals = { on: { rps: 0, p99: 0, bad: 0, cpu: 0 }, off: { rps: 0, p99: 0, bad: 0, cpu: 0 } };
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const results: Partial<Record<'on' | 'off', Awaited<ReturnType<typeof load>>>> = {};
      for (const mode of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const r = await load(stacks[mode], op.query, op.variables);
        results[mode] = r;
        totals[mode].rps += r.rps / rounds;
        totals[mode].cpu += r.cpuMsPerRequest / rounds;
        totals[mode].p99 = Math.max(totals[mode].p99, r.p99);
        totals[mode].bad += r.non2xx + r.errors;
      }
      const { on, off } = results;
      if (on && off) {
        ratios.push(on.rps / off.rps);
        cpuRatios.push(on.cpuMsPerRequest / off.cpuMsPerRequest);
      }
    }
    const ratio = median(ratios);
    const met = ratio >= 1 - maxCost && totals.on.bad === 0 && totals.off.bad === 0;
    allMet &&= met;
    rows.push([
      op.name,
      totals.off.rps.toFixed(0),
      ms(totals.off.p99),
      totals.on.rps.toFixed(0),
      ms(totals.on.p99),
      `${pct(ratio)} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))})`,
      `${totals.off.cpu.toFixed(2)} / ${totals.on.cpu.toFixed(2)}`,
      pct(median(cpuRatios)),
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
        'on/off req/s, median (min–max)',
        'CPU ms/req off / on',
        'on/off CPU/req',
        'failed requests',
        `cost <= ${maxCost * 100}%`,
      ],
      rows,
    ),
  );
  console.log(
    `\nTarget (permissions cost at most ${maxCost * 100}% throughput on both, median of the rounds' on/off): ${verdict(allMet)}`,
  );
} finally {
  await stacks.on.close();
  await stacks.off.close();
}
process.exit(allMet ? 0 : 1);
