import { readFileSync } from 'node:fs';

/**
 * The README's Monitoring section as claims a test can check: which metrics each kind of process
 * says it exports (the table's first two columns), and the metric names a scrape holds.
 */

const METRIC_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;

function monitoringSection(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('\n## Monitoring\n');
  if (start < 0) throw new Error('README.md has no "## Monitoring" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The metric names in backticks in `text` (`upstream_calls_total`, not `metrics:read`). */
function metricNamesIn(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((name) => METRIC_NAME.test(name));
}

/** What the table says `process` (`gateway`, `subgraph <name>`, `sandbox <platform>`) exports. */
export function readmeMetricsOf(process: string): string[] {
  const row = monitoringSection()
    .split('\n')
    .find((line) => line.startsWith(`| \`${process}\``));
  if (!row) throw new Error(`README.md's Monitoring table has no row for \`${process}\``);
  const cells = row.split('|').map((cell) => cell.trim());
  const names = metricNamesIn(cells[2] ?? '');
  if (names.length === 0) throw new Error(`README.md's Monitoring row for \`${process}\` names no metric`);
  return names;
}

/** Every metric name the Monitoring section mentions, in the table or the text around it. */
export function readmeMetricNames(): Set<string> {
  return new Set(metricNamesIn(monitoringSection()));
}

/** The runtime figures the section says every process adds (prom-client's defaults). */
export function readmeProcessFigures(): string[] {
  const paragraph = monitoringSection()
    .split('\n\n')
    .find((p) => p.startsWith("Each adds prom-client's process and runtime figures"));
  if (!paragraph) throw new Error('README.md no longer says which process figures every process adds');
  return metricNamesIn(paragraph);
}

/** The metric families a Prometheus text scrape declares (`# TYPE <name> <type>`). */
export function exportedMetricNames(scrape: string): Set<string> {
  return new Set([...scrape.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}
