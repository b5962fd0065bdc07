// Allocation per request of a benchmarked gateway (issue 17, target 2; bench/README.md "Memory").
// Loaded into ours with `BENCH_OURS_NODE_ARGS="--import ./bench/alloc-probe.mjs"`: from 4 s after
// the first answered request (the warm-up) until SIGTERM, counts the bytes V8 allocated (the heap
// in use before each GC less what the previous GC left, by v8.GCProfiler: a count, not a sample,
// so a busy machine changes the rate but not the bytes), the bytes scavenges promoted, the HTTP
// requests answered and the subgraph fetches made (16 per execution of the benchmark's query), and
// writes them to /tmp/alloc-probe-<pid>.json. Diagnostics only: nothing imports it.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import v8 from 'node:v8';

const WARM_UP_MS = 4_000;
const FETCHES_PER_EXECUTION = 16;
let served = 0;
let fetches = 0;
let firstAt;
let window;

const usedHeap = () => v8.getHeapStatistics().used_heap_size;

function start() {
  const profiler = new v8.GCProfiler();
  profiler.start();
  window = { profiler, served, fetches, used: usedHeap(), at: performance.now() };
}

function finish() {
  if (!window) return;
  const { profiler } = window;
  const endUsed = usedHeap();
  const { statistics } = profiler.stop();
  const oldSpace = (state) =>
    state.heapSpaceStatistics.find((space) => space.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  let allocated = 0;
  let promoted = 0;
  let previous = window.used;
  for (const gc of statistics) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
    previous = gc.afterGC.heapStatistics.usedHeapSize;
    if (gc.gcType === 'Scavenge') promoted += oldSpace(gc.afterGC) - oldSpace(gc.beforeGC);
  }
  allocated += Math.max(0, endUsed - previous);
  const requests = served - window.served;
  const executions = (fetches - window.fetches) / FETCHES_PER_EXECUTION;
  const seconds = (performance.now() - window.at) / 1000;
  window = undefined;
  writeFileSync(
    `/tmp/alloc-probe-${process.pid}.json`,
    JSON.stringify({
      requests,
      executions,
      seconds,
      requestsPerExecution: requests / executions,
      bytesPerRequest: Math.round(allocated / requests),
      promotedPerRequest: Math.round(promoted / requests),
    }),
  );
}

subscribe('http.server.response.finish', () => {
  served += 1;
  firstAt ??= performance.now();
  if (!window && performance.now() - firstAt >= WARM_UP_MS) start();
});
subscribe('http.client.request.start', () => {
  fetches += 1;
});
process.on('SIGTERM', finish);
process.on('exit', finish);
