import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { benchSettings } from './settings.js';
import { listen } from '../lib/server/listen.js';
import { PROFILE } from '../test/helpers/operations.js';
import { freePorts } from '../test/helpers/ports.js';
import { shopifyOrder } from '../test/helpers/webhooks.js';
import {
  BENCH_WEBHOOK_ENV,
  BENCH_WEBHOOK_SECRETS,
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from './gateway-process.js';
import { runLoad, type LoadRun } from './gateways/load.js';
import { bench, benchStack, ms, percentile, pool, post, table } from './harness.js';

/**
 * `npm run bench:scale` (issue 17, "Scale beyond one machine"): what two gateway processes sharing
 * one Redis (response cache, record caches, per-client rate limits, the event log and the delivery
 * store) do against one process on the same CPU budget, and what Redis does per request, per
 * webhook and per delivery, counted from `INFO commandstats` on a Redis of its own (nobody else's
 * commands in the counts). Then the arithmetic of 10 and 100 instances. Loopback only; stops by
 * itself in under 3 minutes.
 */

const config = benchSettings('scale', {
  BENCH_SCALE_SECONDS: z.coerce.number().int().min(1).max(120).default(15),
  BENCH_SCALE_CONNECTIONS: z.coerce.number().int().min(2).max(200).default(32),
  BENCH_SCALE_WEBHOOKS: z.coerce.number().int().min(10).max(20_000).default(500),
  /** `own`: a redis-server of its own on a free loopback port; `shared`: REDIS_URL (counts include other clients). */
  BENCH_SCALE_REDIS: z.enum(['own', 'shared']).default('own'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
});
const sleep = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

// ── CPU budget ───────────────────────────────────────────────────────────────
interface CpuMethod {
  one: string | undefined;
  two: [string | undefined, string | undefined];
  text: string;
}

function cpuMethod(): CpuMethod {
  let taskset = process.platform === 'linux';
  try {
    if (taskset) execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    taskset = false;
  }
  const cpus = availableParallelism();
  if (!taskset || cpus < 2)
    return {
      one: undefined,
      two: [undefined, undefined],
      text: 'not pinned (needs Linux, taskset and 2 CPUs): every process shares every CPU',
    };
  // This process (load generator, subgraphs, sandboxes) and its Redis on CPU 0.
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  if (cpus >= 3)
    return {
      one: '1',
      two: ['1', '2'],
      text: 'scale-out: one gateway on CPU 1, then two gateways on CPUs 1 and 2 (one CPU each); load generator, subgraphs, sandboxes and Redis on CPU 0',
    };
  return {
    one: '1',
    two: ['1', '1'],
    text: 'same CPU budget: one gateway on CPU 1, then two gateways sharing CPU 1; load generator, subgraphs, sandboxes and Redis on CPU 0',
  };
}

// ── Redis and its counters ───────────────────────────────────────────────────
type Counts = Map<string, { calls: number; usec: number }>;

async function startOwnRedis(): Promise<{ url: string; child: ChildProcess }> {
  const [port] = await freePorts(1);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const probe = createClient({ url });
      await probe.connect();
      await probe.ping();
      await probe.quit();
      return { url, child };
    } catch (error) {
      if (spawnError) throw new Error(`redis-server could not be started: ${spawnError.message}`);
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(
          `redis-server did not start: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      await sleep(100);
    }
  }
}

function parseCommandStats(info: string): Counts {
  const out: Counts = new Map();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) out.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return out;
}

/** What Redis did between two readings, without the INFO calls that read it. */
function delta(before: Counts, after: Counts): Counts {
  const out: Counts = new Map();
  for (const [command, a] of after) {
    if (command === 'info') continue;
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out.set(command, { calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out;
}

const totalCalls = (counts: Counts) => [...counts.values()].reduce((sum, c) => sum + c.calls, 0);
const totalUsec = (counts: Counts) => [...counts.values()].reduce((sum, c) => sum + c.usec, 0);
const topCommands = (counts: Counts, per: number, n = 6) =>
  [...counts]
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, n)
    .map(([command, c]) => `${command} ${(c.calls / per).toFixed(2)}`)
    .join(', ');

/** Redis work per unit, with what it would have done idle over the same time taken out. */
interface PerUnit {
  units: number;
  commands: number;
  usec: number;
  top: string;
}

/** A row of the run table: throughput, latency and correctness of a load run, and Redis per request. */
function runRow(
  label: string,
  rps: number,
  perProcess: string,
  run: ReturnType<typeof summarise> | undefined,
  redis: PerUnit,
): string[] {
  return [
    label,
    rps.toFixed(0),
    perProcess,
    ms(run?.p50 ?? NaN),
    ms(run?.p99 ?? NaN),
    String(run?.wrong ?? '-'),
    redis.commands.toFixed(2),
    redis.usec.toFixed(1),
  ];
}

/** A row of the Redis-per-unit table. */
function unitRow(label: string, unit: PerUnit): string[] {
  return [label, String(unit.units), unit.commands.toFixed(2), unit.usec.toFixed(1), unit.top];
}

// ── the run ──────────────────────────────────────────────────────────────────
const method = cpuMethod();
const own =
  config.BENCH_SCALE_REDIS === 'own'
    ? await startOwnRedis().catch((error: unknown) => {
        console.error(
          `bench:scale: ${error instanceof Error ? error.message : String(error)} (install Redis, or BENCH_SCALE_REDIS=shared to use REDIS_URL)`,
        );
        process.exit(2);
      })
    : undefined;
const redisUrl = own?.url ?? config.REDIS_URL;
const redis = createClient({ url: redisUrl });
await redis.connect();
const counts = async () => parseCommandStats(await redis.info('commandstats'));

console.log(
  `bench:scale: ${config.BENCH_SCALE_CONNECTIONS} connections for ${config.BENCH_SCALE_SECONDS} s per run; ${config.BENCH_SCALE_WEBHOOKS} webhooks per webhook run; ` +
    `Redis: ${own ? `its own redis-server at ${redisUrl}` : 'REDIS_URL (shared: the counts include any other client of it)'}\nCPUs: ${method.text}`,
);

const namespace = `bench-scale-${process.pid}-${Date.now()}`;
const stack = await benchStack({
  plans: { hubspot: { per10s: 1_000_000 }, shopify: { bucketSize: 1_000_000, leakPerSecond: 1_000_000 } },
  rateLimits: false,
  cache: {
    redisUrl,
    maxEntries: 100_000,
    namespace,
    ttls: { profile: 300, subscription: 300, orders: 300, campaignReports: 600 },
  },
});

// A subscriber endpoint over https (production gateways refuse http://), its certificate trusted by
// the gateway processes through NODE_EXTRA_CA_CERTS.
const certDir = mkdtempSync(join(tmpdir(), 'bench-scale-tls-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);
let delivered = 0;
const receiver = await listen(
  createServer(
    { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        delivered++;
        res.writeHead(200).end();
      });
    },
  ),
  0,
  '127.0.0.1',
);

const gatewayEnv: Record<string, string> = {
  ...BENCH_WEBHOOK_ENV,
  NODE_ENV: 'production',
  CLIENTS_FILE: bench.clientsFile,
  ROUTING_RULES_FILE: typeOnlyRoutingRules(),
  LOG_LEVEL: 'warn',
  REDIS_URL: redisUrl,
  EVENT_LOG: 'redis',
  EVENT_LOG_PREFIX: `${namespace}:events`,
  WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem'),
};

const customers = stack.world.customers.slice(0, 200);
const bodies = customers.map((c) => JSON.stringify({ query: PROFILE, variables: { email: c.person.email } }));
const check = (body: string) => body.includes('"customer":{') && !body.includes('"errors"');

/** Commands per second Redis serves with nothing sent: the processes' own polling. */
async function idleRate(seconds = 2): Promise<{ perSecond: number; usecPerSecond: number }> {
  const before = await counts();
  await sleep(seconds * 1000);
  const d = delta(before, await counts());
  return { perSecond: totalCalls(d) / seconds, usecPerSecond: totalUsec(d) / seconds };
}

async function measured(
  run: () => Promise<number>,
  idle: { perSecond: number; usecPerSecond: number },
): Promise<PerUnit & { seconds: number }> {
  const before = await counts();
  const started = performance.now();
  const units = await run();
  const seconds = (performance.now() - started) / 1000;
  const d = delta(before, await counts());
  return {
    units,
    seconds,
    commands: Math.max(0, totalCalls(d) - idle.perSecond * seconds) / Math.max(1, units),
    usec: Math.max(0, totalUsec(d) - idle.usecPerSecond * seconds) / Math.max(1, units),
    top: topCommands(d, Math.max(1, units)),
  };
}

const summarise = (runs: LoadRun[]) => {
  const latencies = runs.flatMap((r) => r.latencies);
  return {
    responses: runs.reduce((s, r) => s + r.responses, 0),
    wrong: runs.reduce((s, r) => s + r.wrong + r.failed, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    sample: runs.find((r) => r.sample)?.sample,
  };
};

const gateways: GatewayProcess[] = [];
let oneRun: ReturnType<typeof summarise> | undefined;
let twoRun: ReturnType<typeof summarise> | undefined;
let deliveries = 0;
let exitCode = 1;
try {
  const a = await startGatewayProcess(stack, gatewayEnv, [], undefined, method.one);
  gateways.push(a);
  const idleOne = await idleRate();
  // Fill the shared caches once (response cache, record caches), counting what a cold request
  // costs Redis (the subgraphs' record caches too); the runs then measure the gateway's own path
  // (authentication, rate limit, response cache) as most requests take it.
  let warmErrors = 0;
  const cold = await measured(async () => {
    const warm = await pool(customers, 10, (c) =>
      post(`${a.origin}/graphql`, PROFILE, { email: c.person.email }, bench.headers),
    );
    warmErrors = warm.filter((r) => r.status !== 200 || r.body.errors).length;
    return warm.length;
  }, idleOne);
  console.log(`\nwarm-up: ${cold.units} cold Profiles through gateway 1, ${warmErrors} errors`);
  const one = await measured(async () => {
    const run = await runLoad({
      url: `${a.origin}/graphql`,
      headers: bench.headers,
      bodies: bodies as [string, ...string[]],
      connections: config.BENCH_SCALE_CONNECTIONS,
      seconds: config.BENCH_SCALE_SECONDS,
      check,
    });
    oneRun = summarise([run]);
    return run.responses;
  }, idleOne);

  const b = await startGatewayProcess(stack, gatewayEnv, [], undefined, method.two[1]);
  gateways.push(b);
  // The first gateway moves to its place in the two-process layout (the same CPU in the same-budget method).
  if (method.two[0] !== undefined && a.child.pid !== undefined)
    execFileSync('taskset', ['-cp', method.two[0], String(a.child.pid)], { stdio: 'ignore' });
  // The second process's first requests compile its code: not part of the measurement.
  await pool(customers.slice(0, 20), 10, (c) =>
    post(`${b.origin}/graphql`, PROFILE, { email: c.person.email }, bench.headers),
  );
  const idleTwo = await idleRate();
  const half = Math.floor(config.BENCH_SCALE_CONNECTIONS / 2);
  let perProcess: number[] = [];
  const two = await measured(async () => {
    // Connections round-robin over the two processes: half to each, as a balancer spreading
    // keep-alive connections would.
    const runs = await Promise.all(
      [a, b].map((g, i) =>
        runLoad({
          url: `${g.origin}/graphql`,
          headers: bench.headers,
          bodies: (i === 0 ? bodies.slice(0, 100) : bodies.slice(100)) as [string, ...string[]],
          connections: half,
          seconds: config.BENCH_SCALE_SECONDS,
          check,
        }),
      ),
    );
    twoRun = summarise(runs);
    perProcess = runs.map((r) => r.responses / r.seconds);
    return runs.reduce((s, r) => s + r.responses, 0);
  }, idleTwo);

  // Webhooks in, round-robin over the two processes, no subscriber endpoint yet.
  const agent = new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  const sendWebhooks = async (n: number) => {
    const results = await pool(
      Array.from({ length: n }, (_, i) => i),
      16,
      async (i) => {
        const customer = customers[i % customers.length];
        const webhook = shopifyOrder({
          email: customer?.person.email ?? 'nobody@example.com',
          totalPrice: `${(i % 300) + 1}.00`,
          secret: BENCH_WEBHOOK_SECRETS.shopify,
        });
        const response = await request(`${(i % 2 === 0 ? a : b).origin}${webhook.path}`, {
          method: 'POST',
          headers: webhook.headers,
          body: webhook.body,
          dispatcher: agent,
        });
        await response.body.dump();
        return response.statusCode === 200 || response.statusCode === 202;
      },
    );
    return results.filter(Boolean).length;
  };
  const webhooks = await measured(async () => {
    const accepted = await sendWebhooks(config.BENCH_SCALE_WEBHOOKS);
    // Processing (enrich, route) follows the acknowledgement: give it time to finish.
    await sleep(3_000);
    return accepted;
  }, idleTwo);

  // One subscriber endpoint for orders: each webhook now also makes one delivery.
  const created = await post<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
    `${a.origin}/graphql`,
    'mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
    { input: { url: `https://127.0.0.1:${receiver.port}/hooks`, eventTypes: ['ORDER_PLACED'] } },
    bench.headers,
  );
  if (created.body.errors)
    throw new Error(`could not register the endpoint: ${JSON.stringify(created.body.errors)}`);
  const withDeliveries = await measured(async () => {
    const before = delivered;
    const accepted = await sendWebhooks(config.BENCH_SCALE_WEBHOOKS);
    const deadline = Date.now() + 30_000;
    while (delivered - before < accepted && Date.now() < deadline) await sleep(200);
    await sleep(1_000);
    deliveries = delivered - before;
    return accepted;
  }, idleTwo);
  await agent.close();
  // What a delivery adds to a webhook's own work.
  const perDelivery =
    deliveries > 0
      ? ((withDeliveries.commands - webhooks.commands) * withDeliveries.units) / deliveries
      : NaN;
  // Differences of two noisy measurements: never below zero (Redis time is wall time inside Redis).
  const perDeliveryUsec =
    deliveries > 0
      ? Math.max(0, ((withDeliveries.usec - webhooks.usec) * withDeliveries.units) / deliveries)
      : NaN;

  const rps = (units: number, seconds: number) => units / seconds;
  const oneRps = rps(oneRun?.responses ?? 0, config.BENCH_SCALE_SECONDS);
  const twoRps = rps(twoRun?.responses ?? 0, config.BENCH_SCALE_SECONDS);
  console.log(
    `\n${table(
      [
        'run',
        'req/s',
        'per process',
        'p50 ms',
        'p99 ms',
        'wrong or failed',
        'Redis cmds/request',
        'Redis µs/request',
      ],
      [
        runRow('one process', oneRps, oneRps.toFixed(0), oneRun, one),
        runRow('two processes', twoRps, perProcess.map((r) => r.toFixed(0)).join(' + '), twoRun, two),
      ],
    )}`,
  );
  console.log(
    `two processes against one on the same CPUs (${method.text.split(':')[0]}): ${(twoRps / oneRps).toFixed(2)}x the requests/s in all, ${(twoRps / 2 / oneRps).toFixed(2)}x per process`,
  );
  console.log(
    `\nRedis per unit (idle polling taken out: ${idleTwo.perSecond.toFixed(0)} commands/s with two processes idle, ${idleOne.perSecond.toFixed(0)} with one):`,
  );
  console.log(
    table(
      ['unit', 'count', 'commands', 'µs of Redis CPU', 'most frequent commands (per unit)'],
      [
        unitRow('request (Profile, every cache empty)', cold),
        unitRow('request (Profile, response cache warm)', two),
        unitRow('webhook in (ingest, process, route)', webhooks),
        unitRow('delivery out (one endpoint)', {
          units: deliveries,
          commands: perDelivery,
          usec: perDeliveryUsec,
          top: withDeliveries.top,
        }),
      ],
    ),
  );

  // The arithmetic: N instances, each at the per-process rate measured with one process here.
  const idlePerProcess = idleTwo.perSecond / 2;
  const idleUsecPerProcess = idleTwo.usecPerSecond / 2;
  console.log(
    `\nAt N instances, each serving ${oneRps.toFixed(0)} req/s (one process here), with W webhooks/s in and D deliveries/s out shared among them:`,
  );
  for (const n of [10, 100]) {
    const requestCmds = n * oneRps * two.commands;
    const requestCpu = (n * oneRps * two.usec) / 1e6;
    const idleCmds = n * idlePerProcess;
    const idleCpu = (n * idleUsecPerProcess) / 1e6;
    console.log(
      `  N=${n}: requests ${n} x ${oneRps.toFixed(0)} x ${two.commands.toFixed(2)} = ${requestCmds.toFixed(0)} commands/s (${(requestCpu * 100).toFixed(0)}% of one Redis core); ` +
        `idle polling ${n} x ${idlePerProcess.toFixed(1)} = ${idleCmds.toFixed(0)} commands/s (${(idleCpu * 100).toFixed(1)}%); ` +
        `per 1,000 webhooks/s ${(1000 * webhooks.commands).toFixed(0)} commands/s (${((1000 * webhooks.usec) / 1e4).toFixed(0)}%), per 1,000 deliveries/s ${(1000 * perDelivery).toFixed(0)} (${((1000 * perDeliveryUsec) / 1e4).toFixed(0)}%)`,
    );
  }
  console.log(
    "Redis runs commands on one core: the sum of those shares is how close one Redis is to its ceiling (Redis's own time; network and client time are the instances').",
  );
  exitCode =
    warmErrors === 0 && (oneRun?.wrong ?? 1) === 0 && (twoRun?.wrong ?? 1) === 0 && deliveries > 0 ? 0 : 1;
} catch (error) {
  console.error(`\nbench:scale stopped: ${error instanceof Error ? error.message : String(error)}`);
  for (const g of gateways) console.error(g.output().slice(-2_000));
  exitCode = 1;
} finally {
  await Promise.all(gateways.map((g) => g.kill('SIGTERM')));
  await receiver.close();
  await stack.close();
  await redis.quit();
  if (own) {
    own.child.kill('SIGTERM');
  }
}
process.exit(exitCode);
