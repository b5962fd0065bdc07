import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMetricsEndpoint } from '../../gateway/metrics-endpoint.js';
import type { EventLog } from '../../lib/events/log/types.js';
import { registry } from '../../lib/metrics.js';
import {
  DASHBOARD_ROWS,
  GRAFANA_DASHBOARD_FILE,
  renderGrafanaDashboard,
} from '../../scripts/monitoring/grafana-dashboard.js';
import { exportedMetricNames } from '../helpers/readme-monitoring.js';

/**
 * Issue 16: the Prometheus alerting rules and the Grafana dashboard in docs/monitoring/ work as
 * described: promtool accepts the rules and their unit tests pass (each alert fires on the series
 * that should fire it, and not on healthy ones), and every metric and label a rule or panel queries
 * is one the processes export, so a renamed metric cannot leave a dashboard silently empty.
 */
const RULES_FILE = 'docs/monitoring/prometheus-alerts.yml';
const RULES_TESTS_FILE = 'docs/monitoring/prometheus-alerts.test.yml';
const run = promisify(execFile);

/** promtool from Debian's `prometheus` package; .ci/run installs it. */
async function promtool(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT')
      throw new Error('promtool is not installed: apt-get install -y prometheus (as .ci/run does)');
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/**
 * What a full scrape declares: every metric the commands register, with the role subgraphs they
 * build (each loaded when its process builds it, with its platform's client), and the scrape-time
 * gauges.
 */
async function scrapeNames(): Promise<Set<string>> {
  await Promise.all([
    import('../../cli/commands/start.js'),
    import('../../cli/commands/gateway.js'),
    import('../../cli/commands/subgraph.js'),
    import('../../cli/commands/sandbox.js'),
    import('../../subgraphs/registry.js').then((roles) => roles.loadRoleSubgraphs()),
  ]);
  const stats = { pending: 0, oldestPendingMs: 0, delivered: 0, deadLetters: 0 };
  const handler = createMetricsEndpoint({
    admit: () => Promise.resolve({ ok: true }),
    log: { stats: () => Promise.resolve(stats) } as unknown as EventLog,
    subscribers: () => 0,
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return exportedMetricNames(text);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const FUNCTIONS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'irate', 'histogram_quantile', 'by',
  'without', 'and', 'or', 'unless', 'on', 'ignoring', 'topk', 'bottomk', 'abs', 'clamp_min',
]); // prettier-ignore
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

interface QueryUse {
  metrics: string[];
  /** Label names in selectors (`{status!~"2.."}`) and groupings (`by (platform, le)`). */
  labels: string[];
}

/** The metric names and label names a PromQL expression uses. */
function usesOf(expr: string): QueryUse {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\$__\w+/g, '');
  const selectorLabels = [...withoutStrings.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...m[1]!.matchAll(/([a-z_][a-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!),
  );
  const groupLabels = [...withoutStrings.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap(
    (m) =>
      m[1]!
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
  );
  const bare = withoutStrings
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const metrics = [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b/g)]
    .map((m) => m[1]!)
    .filter((word) => !FUNCTIONS.has(word));
  return { metrics, labels: [...selectorLabels, ...groupLabels] };
}

/** Labels a metric family carries (prom-client's declared names), `le` for a histogram's buckets. */
function labelsOf(series: string): string[] {
  const family = series.replace(HISTOGRAM_SERIES, '');
  const metric = registry.getSingleMetric(family) as { labelNames?: string[] } | undefined;
  return [...(metric?.labelNames ?? []), ...(series.endsWith('_bucket') ? ['le'] : [])];
}

/** What a Prometheus server adds to every series it scrapes. */
const TARGET_LABELS = ['instance', 'job'];

function queryProblems(where: string, expr: string, exported: Set<string>): string[] {
  const use = usesOf(expr);
  const problems: string[] = [];
  for (const series of use.metrics) {
    if (!exported.has(series) && !exported.has(series.replace(HISTOGRAM_SERIES, '')))
      problems.push(`${where}: ${series} is not a metric any process exports`);
  }
  const known = new Set([...TARGET_LABELS, ...use.metrics.flatMap(labelsOf)]);
  for (const label of use.labels) {
    if (!known.has(label)) problems.push(`${where}: label ${label} is not on ${use.metrics.join(', ')}`);
  }
  return problems;
}

interface RulesFile {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

describe('Prometheus and Grafana files (docs/monitoring)', () => {
  it('should pass promtool check rules and the rules unit tests', async () => {
    const checked = await promtool(['check', 'rules', RULES_FILE]);
    expect(checked.output).toContain('SUCCESS');
    expect(checked.ok).toBe(true);
    const tested = await promtool(['test', 'rules', RULES_TESTS_FILE]);
    expect(tested.output).not.toContain('FAILED');
    expect(tested.ok).toBe(true);
  });

  it('should query only metrics and labels that the processes export', async () => {
    const exported = await scrapeNames();
    expect(exported.has('upstream_calls_total')).toBe(true);
    const rules = parseYaml(readFileSync(RULES_FILE, 'utf8')) as RulesFile;
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    const panels = DASHBOARD_ROWS.flatMap((row) => row.panels);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const problems = [
      ...alerts.flatMap((rule) => queryProblems(`alert ${rule.alert}`, rule.expr, exported)),
      ...panels.flatMap((panel) =>
        panel.targets.flatMap((target) => queryProblems(`panel "${panel.title}"`, target.expr, exported)),
      ),
    ];
    expect(problems).toEqual([]);
  });

  it('should find a query on a metric nobody exports (the check can fail)', async () => {
    const exported = await scrapeNames();
    expect(queryProblems('probe', 'sum by (platform) (rate(upstream_calls_totl[5m]))', exported)).toEqual([
      'probe: upstream_calls_totl is not a metric any process exports',
      'probe: label platform is not on upstream_calls_totl',
    ]);
    expect(queryProblems('probe', 'sum by (client) (rate(upstream_calls_total[5m]))', exported)).toEqual([
      'probe: label client is not on upstream_calls_total',
    ]);
  });

  it('should ship the dashboard a fresh generation writes (npx tsx scripts/monitoring/grafana-dashboard.ts)', async () => {
    expect(readFileSync(GRAFANA_DASHBOARD_FILE, 'utf8')).toBe(await renderGrafanaDashboard());
    const dashboard = JSON.parse(readFileSync(GRAFANA_DASHBOARD_FILE, 'utf8')) as {
      panels: { type: string }[];
    };
    expect(dashboard.panels.filter((panel) => panel.type === 'timeseries')).toHaveLength(
      DASHBOARD_ROWS.flatMap((row) => row.panels).length,
    );
  });
});
