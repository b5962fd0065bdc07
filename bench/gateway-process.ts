import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '../cli/stack.js';
import { generateStandardWebhookSecret } from '../lib/webhooks/sign.js';
import { PLATFORM_SUBGRAPHS, subgraphUrlVariable } from '../lib/graphql/subgraph-names.js';
import { WEBHOOK_SOURCES, type EventSourceName } from '../platforms/registry.js';
import { freePorts } from '../test/helpers/ports.js';

/**
 * The gateway as its own OS process (`cli/main.ts gateway`), in front of a test stack's subgraphs:
 * what a deployment runs, and what a test can SIGKILL. Webhook secrets are the demo ones unless
 * `env` sets others, so the test helpers' signed webhooks verify; a production-mode process needs
 * others (it refuses the demo ones): benchmarks pass BENCH_WEBHOOK_SECRETS.
 */
export interface GatewayProcess {
  origin: string;
  child: ChildProcess;
  /** The process's output so far, for a failure message. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** A fresh secret shaped like a source's demo one: Standard Webhooks' `whsec_…` where it uses that, else opaque. */
function freshSecretLike(demoSecret: string): string {
  return demoSecret.startsWith('whsec_')
    ? generateStandardWebhookSecret()
    : randomBytes(24).toString('base64url');
}

/**
 * Webhook secrets for benchmark gateways, one per webhook source in the registry, fresh each run:
 * benchmarks run gateways with NODE_ENV=production, which refuses the published demo secrets.
 */
export const BENCH_WEBHOOK_SECRETS = Object.fromEntries(
  WEBHOOK_SOURCES.map((source) => [source.name, freshSecretLike(source.demoSecret)]),
) as Readonly<Record<EventSourceName, string>>;

/** Seals webhook endpoint secrets at rest: a production gateway refuses to start without one. Fresh each run. */
export const BENCH_WEBHOOK_SEALING_KEY = randomBytes(32).toString('base64');

/** BENCH_WEBHOOK_SECRETS (and the sealing key of webhooks out) as the gateway process reads them. */
export const BENCH_WEBHOOK_ENV: Record<string, string> = {
  WEBHOOK_SECRET_SEALING_KEY: BENCH_WEBHOOK_SEALING_KEY,
  ...Object.fromEntries(
    WEBHOOK_SOURCES.map((source) => [source.secretVariable, BENCH_WEBHOOK_SECRETS[source.name]]),
  ),
};

/** Routing rules that need no customer context: processing costs no platform calls. */
export function typeOnlyRoutingRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'routing-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(
    file,
    [
      'rules:',
      '  - { name: high-value orders, channel: high-value-orders, when: { types: [ORDER_PLACED], orderTotalAtLeast: "200.00" } }',
      '  - { name: new leads, channel: new-leads, when: { types: [FORM_SUBMITTED] } }',
      '',
    ].join('\n'),
  );
  return file;
}

export async function startGatewayProcess(
  stack: Stack,
  env: Record<string, string>,
  /** Node flags for the child, such as `--cpu-prof`. */
  nodeArgs: readonly string[] = [],
  /** Another user to run it as (a test running as root that needs an unprivileged gateway). */
  user?: { uid: number; gid: number },
  /** CPUs to pin it to with `taskset -c` (Linux), such as `1` or `1,2`. taskset execs Node: same pid. */
  cpus?: string,
): Promise<GatewayProcess> {
  const [port] = await freePorts(1);
  const nodeCommand = [process.execPath, ...nodeArgs, '--import', 'tsx', 'cli/main.ts', 'gateway'];
  const [command, ...args] = cpus === undefined ? nodeCommand : ['taskset', '-c', cpus, ...nodeCommand];
  const child = spawn(command as string, args, {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      // Every role subgraph and webhook source from the registries: a new one needs no edit here.
      ...Object.fromEntries(
        PLATFORM_SUBGRAPHS.map((name) => [subgraphUrlVariable(name), `${stack.origins[name]}/graphql`]),
      ),
      GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(stack.gatewayTokenKey),
      ...Object.fromEntries(WEBHOOK_SOURCES.map((source) => [source.secretVariable, source.demoSecret])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the gateway process exited with ${child.exitCode}:\n${output}`);
    try {
      const health = await fetch(`${origin}/health`);
      if (health.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the gateway process did not become healthy in 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    origin,
    child,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
