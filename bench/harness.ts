import { Agent, request } from 'undici';
import { FREE_PORTS, startStack, type Stack, type StackOptions } from '../cli/stack.js';
import { createLogger } from '../lib/logger.js';
import { PLATFORMS } from '../sandboxes/registry.js';
import { benchClientRegistry } from './clients.js';

/**
 * Shared pieces of the `npm run bench:*` scripts: the whole graph in one process on free ports,
 * talking HTTP, with fresh caches; latency percentiles; upstream call counts read from the
 * sandboxes (the same figures `GET /__sandbox/stats` serves).
 */

export const BENCH_ANCHOR_DATE = '2026-11-28';

/** The benchmark client's credentials (every scope, no practical rate limit). */
export const bench = benchClientRegistry();

export function benchStack(overrides: Partial<StackOptions> = {}): Promise<Stack> {
  const silent = createLogger({ name: 'bench', level: 'silent' });
  return startStack({
    access: { auth: { mode: 'production', clientsFile: bench.clientsFile } },
    host: '127.0.0.1',
    ports: FREE_PORTS,
    world: { seed: 42, customers: 2_000, anchorDate: BENCH_ANCHOR_DATE },
    rateLimits: true,
    sandboxLatencyMs: 0,
    upstreamTimeoutMs: 10_000,
    upstreamMaxRetries: 3,
    subgraphTimeoutMs: 30_000,
    supergraphFile: 'schema/supergraph.graphql',
    mode: 'production',
    cache: {
      maxEntries: 100_000,
      namespace: `bench-${process.pid}-${Date.now()}`,
      ttls: { profile: 300, subscription: 300, orders: 120, campaignReports: 600 },
    },
    responseCache: true,
    // The benchmarks that measure queries run without webhook traffic; bench:webhooks sends its own
    // to a gateway process. No webhook endpoints here: production refuses the demo secrets.
    events: { log: { kind: 'sqlite', file: ':memory:' }, webhooksPerMinute: 0, webhooks: {} },
    logger: () => silent,
    ...overrides,
  });
}

export interface Timed<T = unknown> {
  ms: number;
  status: number;
  headers: Headers;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** The benchmark client's own keep-alive pool: light on the CPU the measured servers share with it. */
const client = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

export async function post<T = unknown>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Timed<T>> {
  const started = performance.now();
  const response = await request(url, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.body.json()) as Timed<T>['body'];
  const elapsed = performance.now() - started;
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return { ms: elapsed, status: response.statusCode, headers: responseHeaders, body };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index] as I, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The middle value; for an even count the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** Upstream calls per platform since the last reset, with the endpoints behind them. */
export function upstreamCalls(
  stack: Stack,
): Record<string, { total: number; endpoints: Record<string, number>; statuses: Record<string, number> }> {
  const out: Record<
    string,
    { total: number; endpoints: Record<string, number>; statuses: Record<string, number> }
  > = {};
  for (const platform of PLATFORMS) {
    const snapshot = stack.sandboxes[platform].stats.snapshot();
    const statuses: Record<string, number> = {};
    const endpoints: Record<string, number> = {};
    for (const [endpoint, e] of Object.entries(snapshot.endpoints)) {
      endpoints[endpoint] = e.count;
      for (const [status, count] of Object.entries(e.statuses))
        statuses[status] = (statuses[status] ?? 0) + count;
    }
    out[platform] = { total: snapshot.total, endpoints, statuses };
  }
  return out;
}

export function resetUpstream(stack: Stack): void {
  for (const platform of PLATFORMS) stack.sandboxes[platform].stats.reset();
}

export function totalUpstream(stack: Stack): number {
  return Object.values(upstreamCalls(stack)).reduce((sum, p) => sum + p.total, 0);
}

/** A plain-text table, columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [
    line(cells[0] ?? []),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
