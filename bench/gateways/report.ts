import { median, table } from '../harness.js';

/** One contender's figures over all its rounds. */
export interface ContenderResult {
  id: string;
  label: string;
  describe: string;
  rounds: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Wrong or partial answers, non-200 statuses, connection errors and timeouts. */
  errors: number;
  /** Peak resident memory of the gateway's processes (VmHWM), bytes; the highest round. */
  peakRssBytes: number | undefined;
  /** requests/s over the baseline's. */
  ratio: number | undefined;
  sample?: string;
}

export interface Target {
  name: string;
  met: boolean;
  detail: string;
}

/** A ratio of requests/s between two gateways, taken in each round (both ran in it). */
export interface RoundRatio {
  name: string;
  /** ours over the other gateway, one per round, in round order. */
  perRound: number[];
  median: number;
  min: number;
  max: number;
}

export interface GatewaysReport {
  date: string;
  node: string;
  cpu: string;
  pinning: string;
  connections: number;
  secondsPerRound: number;
  rounds: number;
  warmupSeconds: number;
  subgraphs: string;
  results: ContenderResult[];
  /** Distinct requests, ours over each other gateway, per round: how sure the ratio is. */
  distinctRatios: RoundRatio[];
  targets: Target[];
}

/** Median, min and max of per-round ratios; an even count takes the mean of the middle two. */
export function roundRatio(name: string, perRound: number[]): RoundRatio {
  const sorted = [...perRound].sort((a, b) => a - b);
  return {
    name,
    perRound,
    median: median(sorted),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

const x = (ratio: number) => `${ratio.toFixed(2)}x`;

/** `ours/Hive 2.10x median (1.90x–2.40x) over 3 rounds: 2.10x 1.90x 2.40x`. */
export function describeRoundRatio(r: RoundRatio): string {
  return `${r.name} ${x(r.median)} median (${x(r.min)}–${x(r.max)}) over ${r.perRound.length} rounds: ${r.perRound.map(x).join(' ')}`;
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function rows(report: GatewaysReport): string[][] {
  return report.results.map((r) => [
    r.label,
    r.requestsPerSecond.toFixed(0),
    ms(r.p50),
    ms(r.p95),
    ms(r.p99),
    String(r.errors),
    mb(r.peakRssBytes),
    r.ratio === undefined ? 'n/a' : `${r.ratio.toFixed(2)}x`,
  ]);
}

const HEADERS = ['gateway', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'peak RSS', 'vs baseline'];

export function textReport(report: GatewaysReport): string {
  return [
    table(HEADERS, rows(report)),
    '',
    ...report.distinctRatios.map((r) => `distinct requests, ${describeRoundRatio(r)}`),
    ...(report.distinctRatios.length > 0 ? [''] : []),
    ...report.targets.map((t) => `${t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${t.detail}`),
  ].join('\n');
}

export function markdownReport(report: GatewaysReport): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    `# Gateways benchmark`,
    '',
    `${report.date}, Node ${report.node}, ${report.cpu}. ${report.pinning}. ${report.connections} connections, ` +
      `${report.rounds} interleaved rounds of ${report.secondsPerRound} s per gateway after ${report.warmupSeconds} s of warm-up, each gateway started fresh every round. ` +
      `Subgraphs: ${report.subgraphs}.`,
    '',
    line(HEADERS),
    line(HEADERS.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...rows(report).map(line),
    '',
    ...report.results.map((r) => `- **${r.label}**: ${r.describe}.`),
    '',
    ...(report.distinctRatios.length > 0
      ? [
          '## Distinct requests, ratio per round',
          '',
          ...report.distinctRatios.map((r) => `- ${describeRoundRatio(r)}`),
          '',
        ]
      : []),
    '## Targets',
    '',
    ...report.targets.map((t) => `- ${t.met ? 'met' : '**missed**'}: ${t.name} (${t.detail})`),
    '',
  ].join('\n');
}

const escape = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A horizontal bar chart of requests/s, one bar per gateway, with p99 and the ratio as labels. */
export function svgChart(report: GatewaysReport): string {
  const width = 760;
  const left = 250;
  const barHeight = 34;
  const gap = 14;
  const top = 56;
  const right = 150;
  const max = Math.max(...report.results.map((r) => r.requestsPerSecond), 1);
  const height = top + report.results.length * (barHeight + gap) + 30;
  const colours: Record<string, string> = {
    baseline: '#8c8c8c',
    peer: '#e8a33d',
    ours: '#2f6fde',
    'ours-cached': '#1d9a6c',
    'peer-distinct': '#f3cd8f',
    'ours-distinct': '#9dbcf0',
  };
  const bars = report.results.map((r, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(2, ((width - left - right) * r.requestsPerSecond) / max);
    const ratio = r.ratio === undefined ? '' : ` · ${r.ratio.toFixed(2)}x`;
    return [
      `<text x="${left - 10}" y="${y + barHeight / 2 + 5}" text-anchor="end" font-size="14">${escape(r.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" fill="${colours[r.id] ?? '#555'}"/>`,
      `<text x="${(left + w + 8).toFixed(1)}" y="${y + barHeight / 2 + 5}" font-size="13">${r.requestsPerSecond.toFixed(0)} req/s${ratio} · p99 ${ms(r.p99)} ms</text>`,
    ].join('\n  ');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `  <rect width="100%" height="100%" fill="#ffffff"/>`,
    `  <text x="20" y="28" font-size="17" font-weight="600">Deep federated query, ${report.connections} connections, one CPU per gateway: requests/s</text>`,
    `  <text x="20" y="46" font-size="12" fill="#555">${escape(`${report.date} · Node ${report.node} · ${report.rounds} x ${report.secondsPerRound} s per gateway · errors: ${report.results.map((r) => r.errors).join('/')}`)}</text>`,
    `  ${bars.join('\n  ')}`,
    `</svg>`,
    '',
  ].join('\n');
}
