import { addDays } from '../lib/dates.js';
import { DASHBOARD, PROFILE } from '../test/helpers/operations.js';
import {
  bench,
  BENCH_ANCHOR_DATE,
  benchStack,
  ms,
  percentile,
  pool,
  post,
  resetUpstream,
  table,
  totalUpstream,
  verdict,
} from './harness.js';

/**
 * `npm run bench:cache`: Profile for 200 distinct customers cold then warm, and Dashboard cold then
 * warm, through the full stack with a realistic upstream latency. Prints p50/p99 and the upstream
 * calls of each phase.
 */
const latencyMs = Number(process.env['BENCH_UPSTREAM_LATENCY_MS'] ?? 50);
const profiles = 200;
const concurrency = 4;
// A HubSpot Pro/Enterprise portal (190 requests per 10 s) and a Shopify Plus store (bucket 400,
// 20 per second): the cold phase measures latency, not the entry plans' limits (bench:limits does).
const stack = await benchStack({
  sandboxLatencyMs: latencyMs,
  plans: { hubspot: { per10s: 190 }, shopify: { bucketSize: 400, leakPerSecond: 20 } },
});
try {
  const emails = stack.world.customers.slice(0, profiles).map((c) => c.person.email);
  const client = bench.headers;
  const rows: (string | number)[][] = [];
  const phase = async (
    name: string,
    run: () => Promise<{ ms: number; errors: number; age: string | null }[]>,
  ) => {
    resetUpstream(stack);
    const results = await run();
    const latencies = results.map((r) => r.ms);
    const fromResponseCache = results.filter((r) => r.age !== null).length;
    const row = {
      name,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      calls: totalUpstream(stack),
      errors: results.reduce((s, r) => s + r.errors, 0),
      hits: fromResponseCache,
      n: results.length,
    };
    rows.push([
      name,
      results.length,
      ms(row.p50),
      ms(row.p99),
      row.calls,
      `${fromResponseCache}/${results.length}`,
      row.errors,
    ]);
    return row;
  };
  const profile = (email: string) =>
    post(stack.gatewayUrl, PROFILE, { email }, client).then((r) => ({
      ms: r.ms,
      errors: r.body.errors?.length ?? 0,
      age: r.headers.get('age'),
    }));
  const range = { since: addDays(BENCH_ANCHOR_DATE, -29), until: BENCH_ANCHOR_DATE };
  const dashboard = () =>
    post(stack.gatewayUrl, DASHBOARD, range, bench.headers).then((r) => ({
      ms: r.ms,
      errors: r.body.errors?.length ?? 0,
      age: r.headers.get('age'),
    }));

  const coldProfile = await phase('Profile cold', () => pool(emails, concurrency, profile));
  const warmProfile = await phase('Profile warm', () => pool(emails, concurrency, profile));
  const coldDashboard = await phase('Dashboard cold', () => pool([0], 1, dashboard));
  const warmDashboard = await phase('Dashboard warm', () =>
    pool(
      Array.from({ length: 50 }, (_, i) => i),
      1,
      dashboard,
    ),
  );

  console.log(
    `\nUpstream latency ${latencyMs} ms per sandbox call; ${profiles} distinct customers, ${concurrency} in flight.`,
  );
  console.log(
    table(['phase', 'requests', 'p50 ms', 'p99 ms', 'upstream calls', 'response-cache hits', 'errors'], rows),
  );
  const ratio = coldProfile.p50 / warmProfile.p99;
  const targets = [
    [`warm Profile p99 at least 20x lower than cold p50 (${ratio.toFixed(1)}x)`, ratio >= 20],
    [
      `zero upstream calls when warm (Profile ${warmProfile.calls}, Dashboard ${warmDashboard.calls})`,
      warmProfile.calls === 0 && warmDashboard.calls === 0,
    ],
    [
      `warm Dashboard served from the response cache (${warmDashboard.hits}/${warmDashboard.n})`,
      warmDashboard.hits === warmDashboard.n,
    ],
    [
      `no errors (${coldProfile.errors + warmProfile.errors + coldDashboard.errors + warmDashboard.errors})`,
      coldProfile.errors + warmProfile.errors + coldDashboard.errors + warmDashboard.errors === 0,
    ],
  ] as const;
  console.log('');
  for (const [label, ok] of targets) console.log(`${verdict(ok)}: ${label}`);
  process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1;
} finally {
  await stack.close();
}
process.exit();
