import { CACHING_SUBGRAPHS } from '../../cli/command-env.js';
import type { Stack } from '../../cli/stack.js';
import { subgraphUrlVariable } from '../../lib/graphql/subgraph-names.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import { platformNamed } from '../../platforms/registry.js';
import { startCliProcess, type CliProcess } from './cli-process.js';
import { REDIS_URL } from './redis.js';

export type WorkerProcess = CliProcess;

/** A worker's `/health` when each of its jobs (processing, actions, deliveries, retention) is running. */
export const HEALTHY_WORKER = {
  status: 'ok',
  jobs: {
    'event-actions': { status: 'ok' },
    'event-processor': { status: 'ok' },
    'webhook-deliveries': { status: 'ok' },
    'event-retention': { status: 'ok' },
  },
};

/**
 * `cli/main.ts worker` as its own OS process on a free port (WORKER_PORT), resolved once its
 * `/health` answers 200. It works `stack`'s Redis event log under `prefix` and reads the graph as
 * the stack's gateway would (its origin, its token key, the caching subgraphs' URLs); `env` adds
 * what the test tunes (claims, schedules, platforms, syncs) and may override any of those.
 */
export function startWorkerProcess(
  stack: Stack,
  prefix: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  return startCliProcess(['worker'], 'WORKER_PORT', '/health', {
    EVENT_LOG: 'redis',
    REDIS_URL: REDIS_URL ?? '',
    EVENT_LOG_PREFIX: prefix,
    GATEWAY_URL: stack.origins.gateway,
    GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(stack.gatewayTokenKey),
    ...Object.fromEntries(
      CACHING_SUBGRAPHS.map((name) => [subgraphUrlVariable(name), `${stack.origins[name]}/graphql`]),
    ),
    ...env,
  });
}

/** The variables that make a worker run the demo rule's Meta Purchase action against the Meta sandbox at `origin`. */
export function metaSandboxEnv(origin: string): Record<string, string> {
  return {
    META_BASE_URL: platformNamed('meta').sandbox.baseUrl(origin),
    META_ACCESS_TOKEN: META_DEMO.credentials.accessToken,
    META_AD_ACCOUNT_ID: META_DEMO.credentials.adAccountId,
  };
}

/** SIGTERM to each worker still running (a SIGKILLed one is left as it is), then each one's exit. */
export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
    await worker.exited;
  }
}

/** The sum of counter `name`'s series in a worker's own `/metrics` (0 before its first sample). */
export async function workerCounter(
  worker: WorkerProcess,
  name: string,
  metricsToken: string,
): Promise<number> {
  const response = await fetch(`${worker.origin}/metrics`, {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
