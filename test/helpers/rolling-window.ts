/**
 * The most calls started in any rolling window of `windowMs` (`starts` sorted, in ms): how the
 * shared-budget test and `npm run bench:shared-budget` judge a plan of "max calls per window".
 */
export function busiestWindow(starts: readonly number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (const [last, start] of starts.entries()) {
    while ((starts[first] as number) <= start - windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}
