import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGatewayKeys, GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import { Histogram, registry } from '../../lib/metrics.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import {
  exportedMetricNames,
  readmeMetricNames,
  readmeMetricsOf,
  readmeProcessFigures,
} from '../helpers/readme-monitoring.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { startSandbox, startSandboxProcess, type RunningSandbox } from '../helpers/sandbox.js';
import { startSubgraphProcess, type SubgraphProcess } from '../helpers/subgraph-process.js';

/**
 * Issue 13: every process serves `/metrics` from prom-client. A subgraph run alone
 * (`cli/main.ts subgraph crm`, its own OS process) exports the upstream, breaker and cache
 * counters of its platform calls, with the process's own figures, to a scraper holding
 * METRICS_TOKEN; the gateway run alone exports its process and event-loop figures too; a sandbox
 * run alone what it was asked, its 429s and its injected faults. Durations are histograms in
 * seconds. Each exports what the README's Monitoring table lists for it.
 */
const METRICS_TOKEN = 'scraper-token-0123456789abcdef';
const SECONDS_BUCKETS = Histogram.DEFAULT_BUCKETS.map((b) => `le="${b}"`);

/** The value of the one series of `metric` whose label text contains every one of `labels`. */
function valueOf(text: string, metric: string, labels: readonly string[] = []): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) => (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) && labels.every((x) => l.includes(x)),
    );
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/**
 * prom-client's own default gauges that promtool's linter flags for their `_total` suffix; their
 * names are prom-client's (dashboards know them), not ours to change.
 */
const PROM_CLIENT_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/**
 * `promtool check metrics` (parse and lint) when it is installed (Debian's `prometheus` package),
 * as the problems it reports beyond PROM_CLIENT_LINT; null when promtool is not installed.
 */
async function promtoolProblems(text: string): Promise<string[] | null> {
  const run = promisify(execFile);
  try {
    await run('promtool', ['--version']);
  } catch {
    return null;
  }
  const file = join(tmpdir(), `metrics-${process.pid}-${Date.now()}.txt`);
  writeFileSync(file, text);
  const child = spawn('sh', ['-c', `promtool check metrics < "${file}"`]);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return output.split('\n').filter((line) => line.trim() !== '' && !PROM_CLIENT_LINT.test(line));
}

async function startCrmProcess(
  sandbox: RunningSandbox,
  jwks: object,
  env: Record<string, string>,
): Promise<SubgraphProcess> {
  return startSubgraphProcess('crm', {
    HUBSPOT_BASE_URL: sandbox.baseUrl,
    HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken,
    UPSTREAM_MAX_RETRIES: '0',
    GATEWAY_TOKEN_JWKS: JSON.stringify(jwks),
    ...env,
  });
}

/** The names the README lists for `process` (and every process's runtime figures) that `scrape` lacks. */
function unexportedReadmeMetrics(process: string, scrape: string): string[] {
  const exported = exportedMetricNames(scrape);
  return [...readmeMetricsOf(process), ...readmeProcessFigures()].filter((name) => !exported.has(name));
}

async function stopProcess(running: CliProcess | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  await running.exited;
}

describe('/metrics of a subgraph run as its own process', () => {
  let sandbox: RunningSandbox;
  let crm: SubgraphProcess;
  let closed: SubgraphProcess;
  let signer: GatewayTokenSigner;
  let email: string;

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { rateLimits: false, customers: 50 });
    email = sandbox.world.customers[0]!.person.email;
    const keys = await generateGatewayKeys();
    signer = new GatewayTokenSigner(keys.privateJwk);
    [crm, closed] = await Promise.all([
      startCrmProcess(sandbox, keys.publicJwks, { METRICS_TOKEN }),
      startCrmProcess(sandbox, keys.publicJwks, {}),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stopProcess(crm), stopProcess(closed)]);
    await sandbox?.close();
  });

  /** `customer(email:)` as the gateway would send it: a fresh token bound to the body. */
  const customer = async () => {
    const body = JSON.stringify({ query: `{ customer(email: "${email}") { id } }` });
    const token = await signer.tokenFor('crm', { clientId: 'metrics-test', scopes: ['crm:read'] }, { body });
    const response = await fetch(`${crm.origin}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return (await response.json()) as { data?: { customer: { id: string } | null }; errors?: unknown[] };
  };
  const scrape = (origin: string, authorization?: string) =>
    fetch(`${origin}/metrics`, authorization ? { headers: { authorization } } : {});

  it('should export its upstream, cache and breaker counters and its process figures to the METRICS_TOKEN holder', async () => {
    // A miss that reads HubSpot, then a hit from the record cache.
    const expectedId = sandbox.world.byEmail.get(email)!.crm.id;
    expect((await customer()).data?.customer?.id).toBe(expectedId);
    expect((await customer()).data?.customer?.id).toBe(expectedId);
    // HubSpot fails until the breaker (5 failures in a row) opens; a cached read never reaches it,
    // so each attempt asks for a new customer.
    await sandbox.setFaults({ errorRate: 1, errorStatus: 500 });
    for (const other of sandbox.world.customers.slice(1, 8)) {
      email = other.person.email;
      await customer();
    }
    await sandbox.setFaults({});

    const response = await scrape(crm.origin, `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(valueOf(text, 'upstream_calls_total', ['platform="hubspot"', 'status="200"'])).toBeGreaterThan(0);
    expect(valueOf(text, 'upstream_calls_total', ['platform="hubspot"', 'status="500"'])).toBeGreaterThan(0);
    expect(valueOf(text, 'cache_misses_total', ['platform="hubspot"'])).toBeGreaterThan(0);
    expect(valueOf(text, 'cache_hits_total', ['platform="hubspot"'])).toBeGreaterThan(0);
    expect(valueOf(text, 'upstream_breaker_opened_total', ['platform="hubspot"'])).toBe(1);
    expect(valueOf(text, 'upstream_breaker_rejected_total', ['platform="hubspot"'])).toBeGreaterThan(0);
    expect(valueOf(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    // Durations in seconds: the buckets run from 1 ms to 30 s, and the sum is of seconds.
    const series = text.split('\n').filter((l) => l.startsWith('upstream_latency_seconds_bucket{'));
    const first = series[0]?.replace(/,?le="[^"]*"/, '') ?? '';
    const buckets = series.filter((l) => l.replace(/,?le="[^"]*"/, '').split(' ')[0] === first.split(' ')[0]);
    expect(buckets.map((l) => /le="([^"]+)"/.exec(l)?.[1])).toEqual([
      ...Histogram.DEFAULT_BUCKETS.map(String),
      '+Inf',
    ]);
    const count = valueOf(text, 'upstream_latency_seconds_count', ['platform="hubspot"']) ?? 0;
    const sum = valueOf(text, 'upstream_latency_seconds_sum', ['platform="hubspot"']) ?? Infinity;
    expect(count).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(30);
    expect(text).not.toMatch(/_ms(_bucket|_sum|_count)?[{ ]/);
    expect(text).not.toContain(DEMO_CREDENTIALS.hubspot.accessToken);

    const problems = await promtoolProblems(text);
    if (problems) expect(problems).toEqual([]);
  });

  it('should refuse /metrics without the token, with a wrong one, and on a subgraph with none configured', async () => {
    const missing = await scrape(crm.origin);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toEqual({
      errors: [
        {
          message: 'Metrics need Authorization: Bearer <METRICS_TOKEN>.',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
    const wrong = await scrape(crm.origin, `Bearer ${METRICS_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('upstream_calls_total');

    const off = await scrape(closed.origin, `Bearer ${METRICS_TOKEN}`);
    expect(off.status).toBe(403);
    expect(
      ((await off.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
    ).toBe('FORBIDDEN');
  });

  it("should export every metric the README's Monitoring table lists for a subgraph", async () => {
    const text = await (await scrape(crm.origin, `Bearer ${METRICS_TOKEN}`)).text();
    expect(unexportedReadmeMetrics('subgraph <name>', text)).toEqual([]);
  });
});

describe('/metrics of the gateway run as its own process', () => {
  let gateway: GatewayProcess;
  let monitorKey: string;

  beforeAll(async () => {
    const registry = writeTestRegistry([{ id: 'monitor', scopes: ['metrics:read'] }]);
    monitorKey = registry.keys['monitor']?.[0] ?? '';
    gateway = await startGatewayProcess({ clientsFile: registry.clientsFile, readyKey: monitorKey });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('should export process and event-loop figures, and durations in seconds, to a metrics:read client', async () => {
    const response = await fetch(`${gateway.origin}/metrics`, {
      headers: { authorization: `Bearer ${monitorKey}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(valueOf(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE webhooks_ack_latency_seconds histogram');
    for (const bound of SECONDS_BUCKETS)
      expect(text).toContain(`webhooks_ack_latency_seconds_bucket{${bound}} 0`);
    expect(valueOf(text, 'event_log_lag_seconds')).toBe(0);
    expect(valueOf(text, 'event_log_pending')).toBe(0);
    expect(text).not.toMatch(/_ms(_bucket|_sum|_count)?[{ ]/);

    const problems = await promtoolProblems(text);
    if (problems) expect(problems).toEqual([]);
  });

  it('should refuse /metrics to a caller without credentials', async () => {
    const response = await fetch(`${gateway.origin}/metrics`);
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('process_cpu_seconds_total');
  });

  it("should export every metric the README's Monitoring table lists for the gateway", async () => {
    const response = await fetch(`${gateway.origin}/metrics`, {
      headers: { authorization: `Bearer ${monitorKey}` },
    });
    expect(unexportedReadmeMetrics('gateway', await response.text())).toEqual([]);
  });
});

describe('/metrics of a sandbox run as its own process', () => {
  const CONTACTS = 'GET /crm/v3/objects/contacts';
  let sandbox: CliProcess;

  beforeAll(async () => {
    sandbox = await startSandboxProcess('hubspot', { METRICS_TOKEN, SANDBOX_CUSTOMERS: '50' });
  });
  afterAll(async () => {
    await stopProcess(sandbox);
  });

  const contacts = (credentials = true) =>
    fetch(`${sandbox.origin}/crm/v3/objects/contacts?limit=1`, {
      headers: credentials ? { authorization: `Bearer ${DEMO_CREDENTIALS.hubspot.accessToken}` } : {},
    }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });
  const setFaults = async (faults: object) => {
    const response = await fetch(`${sandbox.origin}/__sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
    expect(response.status).toBe(200);
  };
  const scrape = (authorization?: string) =>
    fetch(`${sandbox.origin}/metrics`, authorization ? { headers: { authorization } } : {});

  it('should count the requests it served, the 429s it sent and why, and the faults it injected', async () => {
    const statuses: number[] = [await contacts(false)];
    await setFaults({ rateLimitRate: 1, remaining: 1 });
    statuses.push(await contacts());
    await setFaults({ errorRate: 1, errorStatus: 503, latencyMs: 5, remaining: 1 });
    statuses.push(await contacts());
    // More at once than HubSpot's 100 per 10 s: the sandbox enforces the limit with 429s.
    statuses.push(...(await Promise.all(Array.from({ length: 110 }, () => contacts()))));
    const count = (status: number) => statuses.filter((s) => s === status).length;
    expect([count(401), count(503)]).toEqual([1, 1]);
    expect(count(429)).toBeGreaterThan(1);

    const response = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    const served = (status: number) =>
      valueOf(text, 'sandbox_requests_total', [
        'platform="hubspot"',
        `endpoint="${CONTACTS}"`,
        `status="${status}"`,
      ]);
    expect([served(200), served(401), served(429), served(503)]).toEqual([count(200), 1, count(429), 1]);
    expect(valueOf(text, 'sandbox_rate_limited_total', ['cause="fault"'])).toBe(1);
    expect(valueOf(text, 'sandbox_rate_limited_total', ['cause="limit"'])).toBe(count(429) - 1);
    for (const kind of ['rateLimit', 'error', 'latency'])
      expect(valueOf(text, 'sandbox_faults_injected_total', [`kind="${kind}"`])).toBe(1);
    // Scrapes and admin calls are not platform requests.
    expect(text).not.toContain('endpoint="GET /metrics"');
    expect(text).not.toContain('__sandbox');
    expect(text).not.toContain(DEMO_CREDENTIALS.hubspot.accessToken);
    expect(unexportedReadmeMetrics('sandbox <platform>', text)).toEqual([]);

    const problems = await promtoolProblems(text);
    if (problems) expect(problems).toEqual([]);
  });

  it('should refuse /metrics without the token or with a wrong one', async () => {
    const missing = await scrape();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await scrape(`Bearer ${METRICS_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('sandbox_requests_total');
  });
});

describe("the README's Monitoring section", () => {
  it('should list every metric the code defines', async () => {
    // What each command's process registers when its modules load (prom-client registers a
    // metric when it is created); prom-client's own process_* and nodejs_* figures aside.
    await Promise.all([
      import('../../cli/commands/start.js'),
      import('../../cli/commands/gateway.js'),
      import('../../cli/commands/subgraph.js'),
      import('../../cli/commands/sandbox.js'),
    ]);
    const defined = (await registry.getMetricsAsJSON())
      .map((metric) => metric.name)
      .filter((name) => !/^(process|nodejs)_/.test(name));
    expect(defined.length).toBeGreaterThan(20);
    const listed = readmeMetricNames();
    expect(defined.filter((name) => !listed.has(name))).toEqual([]);
  });
});
