import { CUSTOMERS } from '../test/helpers/operations.js';
import { bench, benchStack, post } from './harness.js';
const unlimited = { hubspotPer10s: 1_000_000, shopifyBucketSize: 1_000_000, shopifyLeakPerSecond: 1_000_000 };
const stack = await benchStack({ rateLimits: false, plans: unlimited, responseCache: false });
await post(stack.gatewayUrl, CUSTOMERS, { first: 500 }, bench.headers);
const t = Date.now();
let n = 0;
while (Date.now() - t < 8000) {
  await Promise.all([0, 1, 2, 3].map(() => post(stack.gatewayUrl, CUSTOMERS, { first: 500 }, bench.headers)));
  n += 4;
}
console.log('rps', n / 8);
await stack.close();
process.exit(0);
