import { CUSTOMERS } from '../test/helpers/operations.js';
import { bench, benchStack, post, resetUpstream, table, upstreamCalls, verdict } from './harness.js';

/**
 * `npm run bench:batching`: `Customers(first: n)` cold (every cache empty) for n = 100 and 500, and
 * the upstream calls each platform received, next to the least the platform's API allows.
 */
const sizes = [100, 500];
let allMet = true;
for (const n of sizes) {
  // Record caches only: the response cache would answer the warm run without them.
  const stack = await benchStack({ responseCache: false });
  try {
    const members = stack.world.customers.filter((c) => c.audience).length;
    const shopCustomers = stack.world.customers.filter((c) => c.shop).length;
    resetUpstream(stack);
    const result = await post(stack.gatewayUrl, CUSTOMERS, { first: n }, bench.headers);
    const errors = result.body.errors?.length ?? 0;
    const calls = upstreamCalls(stack);
    // The least each API allows: HubSpot lists 100 contacts per page; Mailchimp either one GET per
    // member or a scan of the audience at 1,000 per page plus one call for its size; Shopify either
    // one search per 50 emails or a scan at 250 per page plus one count.
    const bounds = {
      hubspot: { bound: Math.ceil(n / 100), how: `ceil(${n}/100) list pages` },
      mailchimp: {
        bound: Math.min(n, 1 + Math.ceil(members / 1000)),
        how: `min(${n} GETs, 1 + ceil(${members}/1000) scan)`,
      },
      shopify: {
        bound: Math.min(Math.ceil(n / 50), 1 + Math.ceil(shopCustomers / 250)),
        how: `min(ceil(${n}/50) searches, 1 + ceil(${shopCustomers}/250) scan)`,
      },
      meta: { bound: 0, how: 'no ads fields asked' },
    };
    const rows = Object.entries(bounds).map(([platform, { bound, how }]) => {
      const made = calls[platform]?.total ?? 0;
      allMet &&= made === bound;
      const endpoints = Object.entries(calls[platform]?.endpoints ?? {})
        .map(([e, c]) => `${c}x ${e}`)
        .join('; ');
      return [platform, made, bound, how, verdict(made === bound), endpoints || '-'];
    });
    console.log(
      `\nCustomers(first: ${n}), cold: ${result.ms.toFixed(0)} ms, ${errors} errors, HTTP ${result.status}`,
    );
    console.log(table(['platform', 'calls', 'lower bound', 'bound is', 'target', 'endpoints'], rows));
    allMet &&= errors === 0;
    resetUpstream(stack);
    const again = await post(stack.gatewayUrl, CUSTOMERS, { first: n }, bench.headers);
    const warmCalls = Object.values(upstreamCalls(stack)).reduce((s, p) => s + p.total, 0);
    console.log(
      `warm (record caches filled): ${again.ms.toFixed(0)} ms, upstream calls ${warmCalls}${again.body.errors ? ', errors' : ''}`,
    );
  } finally {
    await stack.close();
  }
}
console.log(`\nTarget (calls equal the lower bound, no errors): ${verdict(allMet)}`);
process.exit(allMet ? 0 : 1);
