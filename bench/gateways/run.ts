import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { benchSettings } from '../settings.js';
import { generateApiKey } from '../../gateway/auth/api-keys.js';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { percentile } from '../harness.js';
import { CONTENDERS, type BenchContext, type Contender, type RunningGateway } from './contenders.js';
import { runLoad, type LoadRun } from './load.js';
import { planCpus, peakRss, spawnPinned, type Child } from './processes.js';
import { DEEP_QUERY_BODY, deepResponseCheck, distinctDeepQueryBodies } from './query.js';
import {
  markdownReport,
  roundRatio,
  svgChart,
  textReport,
  type ContenderResult,
  type GatewaysReport,
  type RoundRatio,
  type Target,
} from './report.js';
import { BENCH_SCOPES } from './schemas.js';
import { benchSupergraph } from './supergraph.js';

/**
 * `npm run bench:gateways`: our gateway against the Node gateways users would pick instead, on The
 * Guild's federation benchmark (four subgraphs, one deep query, 50 connections), in one run on this
 * machine. Each gateway gets one CPU of its own, is started fresh every round, warmed up, then
 * loaded for a fixed time; rounds rotate the order so machine drift hits every gateway alike.
 * Every response is compared with the expected answer; a wrong or partial one is an error.
 */

const config = benchSettings('gateways', {
  BENCH_DURATION: z.coerce.number().int().min(1).max(600).default(20),
  BENCH_ROUNDS: z.coerce.number().int().min(1).max(10).default(3),
  BENCH_WARMUP: z.coerce.number().int().min(1).max(120).default(5),
  BENCH_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(50),
  BENCH_GATEWAYS: z
    .string()
    .default(CONTENDERS.map((c) => c.id).join(','))
    .transform((list) => list.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(CONTENDERS.map((c) => c.id) as [Contender['id'], ...Contender['id'][]])).min(1)),
  /** Node flags for our gateway (e.g. `--cpu-prof --cpu-prof-dir=bench/results/profiles`). */
  BENCH_OURS_NODE_ARGS: z.string().default(''),
});
const resultsDir = resolve(import.meta.dirname, '..', 'results');

/** Polls `probe` until it returns a value; a probe that throws ends the wait with its error. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} was not ready in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startSubgraphs(
  workDir: string,
  cpu: number | undefined,
): Promise<{ child: Child; origin: string }> {
  const child = spawnPinned({
    cpu,
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/gateways/subgraphs-main.ts'],
    env: { NODE_ENV: 'production' },
    logFile: join(workDir, 'subgraphs.log'),
    cwd: resolve(import.meta.dirname, '..', '..'),
  });
  const origin = await waitFor('the subgraphs', 30_000, async () => {
    if (child.process.exitCode !== null) throw new Error(`the subgraphs exited:\n${child.tail()}`);
    const line = child
      .tail()
      .split('\n')
      .find((l) => l.startsWith('{"origin"'));
    return line ? (JSON.parse(line) as { origin: string }).origin : undefined;
  });
  return { child, origin };
}

function benchRegistry(workDir: string): { clientsFile: string; headers: Record<string, string> } {
  const key = generateApiKey();
  const clientsFile = join(workDir, 'clients.json');
  const registry = {
    clients: [
      {
        id: 'gateway-bench',
        name: 'Gateway benchmark client',
        scopes: [...BENCH_SCOPES],
        rateLimit: { requestsPerMinute: 1_000_000, burst: 100_000 },
        keys: [{ id: key.keyId, hash: key.hash, createdAt: new Date().toISOString() }],
      },
    ],
  };
  writeFileSync(clientsFile, JSON.stringify(registry, null, 2));
  return { clientsFile, headers: { authorization: `Bearer ${key.key}` } };
}

const check = deepResponseCheck();

async function ready(gateway: RunningGateway): Promise<void> {
  await waitFor('the gateway', 60_000, async () => {
    if (gateway.child.process.exitCode !== null)
      throw new Error(`the gateway exited (${gateway.child.process.exitCode}):\n${gateway.child.tail()}`);
    let response: Response;
    try {
      response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...gateway.headers },
        body: DEEP_QUERY_BODY,
      });
    } catch {
      return undefined; // not listening yet
    }
    const text = await response.text();
    if (response.status === 200 && check(text)) return true;
    if (response.status === 503 || response.status === 502) return undefined; // still loading
    throw new Error(
      `the gateway answers the deep query wrongly: HTTP ${response.status} ${text.slice(0, 800)}`,
    );
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n--- gateway log ---\n${gateway.child.tail()}`);
  });
}

interface Measured {
  run: LoadRun;
  peakRss: number | undefined;
}

async function measure(contender: Contender, context: BenchContext, run: string): Promise<Measured> {
  const nodeArgs = contender.id.startsWith('ours')
    ? config.BENCH_OURS_NODE_ARGS.split(' ').filter(Boolean)
    : [];
  const gateway = await contender.start(context, run, nodeArgs);
  try {
    await ready(gateway);
    const load = (seconds: number) =>
      runLoad({
        url: gateway.url,
        headers: gateway.headers,
        bodies:
          contender.requests === 'distinct'
            ? distinctDeepQueryBodies(config.BENCH_CONNECTIONS)
            : [DEEP_QUERY_BODY],
        connections: config.BENCH_CONNECTIONS,
        seconds,
        check,
      });
    await load(config.BENCH_WARMUP);
    const measured = await load(config.BENCH_DURATION);
    return { run: measured, peakRss: peakRss(gateway.child.pid) };
  } finally {
    await gateway.child.stop();
  }
}

function summarise(contender: Contender, runs: Measured[]): Omit<ContenderResult, 'ratio'> {
  const latencies = runs.flatMap((m) => m.run.latencies);
  const requests = runs.reduce((sum, m) => sum + m.run.responses, 0);
  const seconds = runs.reduce((sum, m) => sum + m.run.seconds, 0);
  const peaks = runs.map((m) => m.peakRss).filter((p): p is number => p !== undefined);
  const sample = runs.find((m) => m.run.sample)?.run.sample;
  return {
    id: contender.id,
    label: contender.label,
    describe: contender.describe,
    rounds: runs.length,
    seconds,
    requests,
    requestsPerSecond: requests / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: runs.reduce((sum, m) => sum + m.run.wrong + m.run.failed, 0),
    peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : undefined,
    ...(sample ? { sample } : {}),
  };
}

/**
 * Distinct requests (nothing can be shared), ours over Hive Gateway and over Apollo Gateway, one
 * ratio per round: the rounds are interleaved, so each ratio compares gateways under the same
 * machine state, and their spread says how sure the median is (issue 17).
 */
function distinctRatios(runs: Map<string, Measured[]>): RoundRatio[] {
  const rps = (m: Measured) => m.run.responses / m.run.seconds;
  const ours = runs.get('ours-distinct') ?? [];
  const out: RoundRatio[] = [];
  for (const [other, name] of [
    ['peer-distinct', 'ours/Hive'],
    ['baseline', 'ours/Apollo'],
  ] as const) {
    const theirs = runs.get(other) ?? [];
    const perRound = ours
      .map((m, i) => {
        const t = theirs[i];
        return t ? rps(m) / rps(t) : undefined;
      })
      .filter((r): r is number => r !== undefined && Number.isFinite(r));
    if (perRound.length > 0) out.push(roundRatio(name, perRound));
  }
  return out;
}

/** Issue 17, target 1: distinct requests at 3x Hive Gateway and 4x Apollo Gateway, on the median. */
const DISTINCT_TARGETS: Record<string, number> = { 'ours/Hive': 3, 'ours/Apollo': 4 };

function targets(results: ContenderResult[], ratios: RoundRatio[]): Target[] {
  const by = (id: string) => results.find((r) => r.id === id);
  const baseline = by('baseline');
  const peer = by('peer');
  const ours = by('ours');
  const cached = by('ours-cached');
  const out: Target[] = [];
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  if (ours && baseline) {
    out.push({
      name: 'ours (cache off) >= 2x baseline requests/s',
      met: ours.requestsPerSecond >= 2 * baseline.requestsPerSecond,
      detail: `${ours.requestsPerSecond.toFixed(0)} vs ${baseline.requestsPerSecond.toFixed(0)} req/s, ${x(ours.requestsPerSecond, baseline.requestsPerSecond)}`,
    });
    out.push({
      name: "ours (cache off) p99 <= baseline's",
      met: ours.p99 <= baseline.p99,
      detail: `${ours.p99.toFixed(1)} vs ${baseline.p99.toFixed(1)} ms`,
    });
  }
  if (ours && peer) {
    out.push({
      name: "ours (cache off) >= peer's requests/s",
      met: ours.requestsPerSecond >= peer.requestsPerSecond,
      detail: `${ours.requestsPerSecond.toFixed(0)} vs ${peer.requestsPerSecond.toFixed(0)} req/s, ${x(ours.requestsPerSecond, peer.requestsPerSecond)}`,
    });
  }
  if (ours)
    out.push({
      name: 'ours (cache off) without errors',
      met: ours.errors === 0,
      detail: `${ours.errors} errors`,
    });
  if (cached && baseline) {
    out.push({
      name: 'ours (cache on) >= 10x baseline requests/s',
      met: cached.requestsPerSecond >= 10 * baseline.requestsPerSecond,
      detail: `${cached.requestsPerSecond.toFixed(0)} vs ${baseline.requestsPerSecond.toFixed(0)} req/s, ${x(cached.requestsPerSecond, baseline.requestsPerSecond)}`,
    });
  }
  for (const mine of [ours, cached]) {
    if (!mine || !baseline || mine.peakRssBytes === undefined || baseline.peakRssBytes === undefined)
      continue;
    out.push({
      name: `${mine.label}: peak RSS <= baseline's`,
      met: mine.peakRssBytes <= baseline.peakRssBytes,
      detail: `${(mine.peakRssBytes / 2 ** 20).toFixed(0)} vs ${(baseline.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
    });
  }
  for (const r of ratios) {
    const wanted = DISTINCT_TARGETS[r.name];
    if (wanted === undefined) continue;
    out.push({
      name: `distinct requests ${r.name} >= ${wanted}x (median of ${r.perRound.length} rounds)`,
      met: r.median >= wanted,
      detail: `${r.median.toFixed(2)}x, min ${r.min.toFixed(2)}x, max ${r.max.toFixed(2)}x`,
    });
  }
  return out;
}

const plan = planCpus();
const workDir = mkdtempSync(join(tmpdir(), 'bench-gateways-'));
const chosen = CONTENDERS.filter((c) => config.BENCH_GATEWAYS.includes(c.id));
console.log(
  `bench:gateways: ${chosen.map((c) => c.id).join(', ')}; ${config.BENCH_ROUNDS} rounds x ${config.BENCH_DURATION} s ` +
    `(+${config.BENCH_WARMUP} s warm-up), ${config.BENCH_CONNECTIONS} connections; ${plan.note}; logs in ${workDir}`,
);
// Our gateway runs from the prebuilt CLI, rebuilt by its first start after a source change: built
// here first, so no round's start pays for the build (its CPU, and the builder's memory in the peak).
if (chosen.some((c) => c.id.startsWith('ours')))
  execFileSync(process.execPath, ['scripts/run-built.mjs', '--version'], {
    cwd: resolve(import.meta.dirname, '..', '..'),
    stdio: 'ignore',
  });
const subgraphs = await startSubgraphs(workDir, plan.rest);
let exitCode = 1;
try {
  const supergraphFile = (name: string, secured: boolean) => {
    const file = join(workDir, name);
    writeFileSync(file, benchSupergraph(subgraphs.origin, secured));
    return file;
  };
  const registry = benchRegistry(workDir);
  const context: BenchContext = {
    subgraphsOrigin: subgraphs.origin,
    plainSupergraphFile: supergraphFile('supergraph.graphql', false),
    securedSupergraphFile: supergraphFile('supergraph-secured.graphql', true),
    clientsFile: registry.clientsFile,
    clientHeaders: registry.headers,
    gatewayTokenKey: (await generateGatewayKeys('bench-gateways')).privateJwk,
    workDir,
    cpu: plan.gateway,
  };
  const runs = new Map<string, Measured[]>(chosen.map((c) => [c.id, []]));
  for (let round = 0; round < config.BENCH_ROUNDS; round++) {
    const order = chosen.map((_, i) => chosen[(i + round) % chosen.length] as Contender);
    for (const contender of order) {
      const measured = await measure(contender, context, `${contender.id}-round${round + 1}`);
      runs.get(contender.id)?.push(measured);
      const r = measured.run;
      console.log(
        `  round ${round + 1}/${config.BENCH_ROUNDS} ${contender.id.padEnd(11)} ${(r.responses / r.seconds).toFixed(0).padStart(6)} req/s` +
          `  p99 ${percentile(r.latencies, 99).toFixed(1)} ms  errors ${r.wrong + r.failed}` +
          `  peak RSS ${measured.peakRss === undefined ? 'n/a' : `${(measured.peakRss / 2 ** 20).toFixed(0)} MB`}` +
          (r.sample ? `\n    first wrong answer: ${r.sample.slice(0, 300)}` : ''),
      );
    }
  }
  const summaries = chosen.map((c) => summarise(c, runs.get(c.id) ?? []));
  const baselineRps = summaries.find((s) => s.id === 'baseline')?.requestsPerSecond;
  const results: ContenderResult[] = summaries.map((s) => ({
    ...s,
    ratio: baselineRps ? s.requestsPerSecond / baselineRps : undefined,
  }));
  const ratios = distinctRatios(runs);
  const report: GatewaysReport = {
    date: new Date().toISOString().slice(0, 10),
    node: process.versions.node,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
    pinning: plan.note,
    connections: config.BENCH_CONNECTIONS,
    secondsPerRound: config.BENCH_DURATION,
    rounds: config.BENCH_ROUNDS,
    warmupSeconds: config.BENCH_WARMUP,
    subgraphs:
      'accounts, inventory, products, reviews (@apollo/subgraph schemas in one Node process, executed by graphql-js, answers memoised by request body)',
    results,
    distinctRatios: ratios,
    targets: targets(results, ratios),
  };
  console.log(`\n${textReport(report)}`);
  mkdirSync(resultsDir, { recursive: true });
  // A partial run (BENCH_GATEWAYS) prints its table but leaves the committed results alone.
  if (chosen.length === CONTENDERS.length) {
    writeFileSync(join(resultsDir, 'gateways.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'gateways.md'), markdownReport(report));
    writeFileSync(join(resultsDir, 'gateways.svg'), svgChart(report));
    console.log(`\nWrote bench/results/gateways.{json,md,svg}.`);
  }
  exitCode = report.targets.every((t) => t.met) ? 0 : 1;
} catch (error) {
  // A part that fails to start or answer ends the run with its reason, not a stack trace.
  console.error(`\nbench:gateways stopped: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await subgraphs.child.stop();
}
process.exit(exitCode);
