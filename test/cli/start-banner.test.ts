import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLATFORMS } from '../../platforms/registry.js';
import { as } from '../helpers/clients.js';
import { startPorts } from '../helpers/ports.js';
import { exportedMetricNames, readmeMetricsOf } from '../helpers/readme-monitoring.js';

/**
 * What a person sees after `npm start` at the default log level: the banner last, with the
 * explorer's address, and then quiet while the demo's webhooks flow (their processing, and the
 * gateway's own reads to route them, log at debug).
 */

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The last line of the banner (the SSE example), so the test knows the whole banner is out. */
const BANNER_END = /"query":"subscription \{ events \{[^\n]*\n\n/;

async function processedEvents(origin: string): Promise<number> {
  const response = await fetch(`${origin}/metrics`, { headers: as('admin') }).catch(() => undefined);
  if (response?.status !== 200) return 0;
  return [...(await response.text()).matchAll(/^events_processed_total(?:\{[^}]*\})? (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe('npm start at the default log level', () => {
  it('should print the banner last, with the explorer address, and log no demo traffic at info', async () => {
    const { gateway, env: ports } = await startPorts();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...ports,
      SANDBOX_CUSTOMERS: '200',
      // Ten a second, so the test sees demo traffic soon.
      SANDBOX_WEBHOOKS_PER_MINUTE: '600',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'start-banner-')),
    };
    // The demo as a new user starts it: the default log level, no Redis.
    delete env['LOG_LEVEL'];
    delete env['REDIS_URL'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    let end: RegExpExecArray | null;
    while (!(end = BANNER_END.exec(stdout))) {
      if (child.exitCode !== null) throw new Error(`start exited with ${child.exitCode}: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const bannerStart = stdout.indexOf('\nmarketing-graph is running');
    expect(bannerStart).toBeGreaterThanOrEqual(0);
    const bannerEnd = end.index + end[0].length;
    const banner = stdout.slice(bannerStart, bannerEnd);
    expect(banner).toContain(`  explorer    http://127.0.0.1:${gateway}/explorer`);
    // Everything before the banner is start-up log lines; nothing of start-up comes after it.
    expect(
      stdout
        .slice(0, bannerStart)
        .trim()
        .split('\n')
        .every((line) => line.startsWith('{')),
    ).toBe(true);

    // Demo webhooks arrive and are processed (each one read from the graph to route it)...
    while ((await processedEvents(`http://127.0.0.1:${gateway}`)) < 10) {
      if (child.exitCode !== null) throw new Error(`start exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // One process, one registry: the gateway's /metrics has the subgraphs' platform calls and the
    // sandboxes' requests too (the README's every row), and the subgraphs' and sandboxes' own
    // /metrics, with no METRICS_TOKEN in this process, refuse.
    const scrape = await (
      await fetch(`http://127.0.0.1:${gateway}/metrics`, { headers: as('admin') })
    ).text();
    expect(scrape).toMatch(/^upstream_calls_total\{[^}]*\} [1-9]/m);
    expect(scrape).toMatch(/^sandbox_requests_total\{[^}]*\} [1-9]/m);
    expect(scrape).toMatch(/^process_cpu_seconds_total [0-9.e+-]+$/m);
    const exported = exportedMetricNames(scrape);
    const listed = ['gateway', 'subgraph <name>', 'sandbox <platform>'].flatMap(readmeMetricsOf);
    expect(listed.filter((name) => !exported.has(name))).toEqual([]);
    for (const port of [ports['CRM_PORT'], ...PLATFORMS.map((p) => ports[p.sandbox.portVariable])])
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(403);
    // ...and none of it reaches the default log level: the banner is still the last thing printed.
    const after = stdout.slice(bannerEnd);
    const infoLines = after
      .split('\n')
      .filter(Boolean)
      .filter((line) => ((JSON.parse(line) as { level: number }).level ?? 0) >= 30);
    expect(infoLines).toEqual([]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
