import { writeFileSync } from 'node:fs';

/**
 * Loaded into a benchmarked process with `--import`: writes its memory (RSS, V8 heap) to
 * MEMORY_PROBE_FILE every 250 ms, so the benchmark can report the heap of a process it only sees
 * from outside. Does nothing without MEMORY_PROBE_FILE.
 */
const file = process.env['MEMORY_PROBE_FILE'];
if (file) {
  setInterval(() => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    writeFileSync(file, JSON.stringify({ rss, heapUsed, heapTotal, external, at: Date.now() }));
  }, 250).unref();
}
