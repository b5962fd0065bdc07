import { renameSync, writeFileSync } from 'node:fs';

/**
 * Loaded into a benchmarked process with `--import`: writes its memory (RSS, V8 heap, and the peak
 * RSS the kernel saw, `maxRss`) to MEMORY_PROBE_FILE every MEMORY_PROBE_INTERVAL_MS (default 250)
 * and once more as it exits, so the benchmark can report the memory of a process it only sees from
 * outside, peak included, even when it exits between two samples. Does nothing without
 * MEMORY_PROBE_FILE.
 */
const file = process.env['MEMORY_PROBE_FILE'];
if (file) {
  const write = () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    // ru_maxrss is in kilobytes on Linux and macOS alike (Node normalises it).
    const maxRss = process.resourceUsage().maxRSS * 1024;
    // Written aside, then renamed over the file: a reader never sees half a sample.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({ rss, maxRss, heapUsed, heapTotal, external, at: Date.now() }),
    );
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, Number(process.env['MEMORY_PROBE_INTERVAL_MS'] ?? 250)).unref();
  process.on('exit', write);
}
