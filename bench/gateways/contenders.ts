import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { JWK } from 'jose';
import { freePorts } from '../../test/helpers/ports.js';
import { BENCH_WEBHOOK_SEALING_KEY } from '../gateway-process.js';
import { spawnPinned, type Child } from './processes.js';

/** Everything a contender needs to start: where the subgraphs are, the files it serves. */
export interface BenchContext {
  /** `http://127.0.0.1:<port>`; each subgraph at `/<name>`. */
  subgraphsOrigin: string;
  /** The supergraph as the reference composes it (no permissions). */
  plainSupergraphFile: string;
  /** The same supergraph with `@requiresScopes` permissions, which our gateway enforces. */
  securedSupergraphFile: string;
  /** Client registry with the benchmark client (an API key holding the needed scopes). */
  clientsFile: string;
  /** Headers carrying the benchmark client's API key. */
  clientHeaders: Record<string, string>;
  gatewayTokenKey: JWK;
  /** Scratch directory of this run: logs, event log, profiles. */
  workDir: string;
  /** CPU of the gateway under test, or undefined when unpinned. */
  cpu: number | undefined;
}

export interface RunningGateway {
  url: string;
  /** Headers every request to this gateway carries. */
  headers: Record<string, string>;
  child: Child;
}

export interface Contender {
  id: 'baseline' | 'peer' | 'ours' | 'ours-cached' | 'peer-distinct' | 'ours-distinct';
  label: string;
  /** One line: what runs and how it is configured. */
  describe: string;
  /**
   * `identical`: every connection sends the same request, as in the reference. `distinct`: each
   * connection sends its own copy of the query (a comment apart), so no request in flight can share
   * another's work: what the gateway does per operation.
   */
  requests: 'identical' | 'distinct';
  start(context: BenchContext, run: string, nodeArgs?: readonly string[]): Promise<RunningGateway>;
}

const root = resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

async function launch(
  context: BenchContext,
  run: string,
  args: readonly string[],
  env: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<RunningGateway> {
  const [port] = await freePorts(1);
  const child = spawnPinned({
    cpu: context.cpu,
    command: process.execPath,
    args,
    env: { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
    logFile: join(context.workDir, `${run}.log`),
    cwd: root,
  });
  return { url: `http://127.0.0.1:${port}/graphql`, headers, child };
}

function hiveGatewayBin(): string {
  return join(dirname(require.resolve('@graphql-hive/gateway/package.json')), 'dist', 'bin.js');
}

/**
 * The arguments `npm run gateway` gives Node, read from package.json so the benchmark runs what a
 * user runs, V8 flags included (`node --max-semi-space-size=8 scripts/run-built.mjs gateway`).
 */
export function gatewayScriptArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [command, ...args] = (scripts['gateway'] ?? '').trim().split(/\s+/);
  if (command !== 'node' || !args.includes('scripts/run-built.mjs')) {
    throw new Error(
      `package.json's "gateway" script is not "node [flags] scripts/run-built.mjs gateway": ${scripts['gateway']}`,
    );
  }
  return args;
}

/** `args` (Node flags, then the script and its arguments) with `extra` flags after the script's flags. */
function withNodeFlags(args: readonly string[], extra: readonly string[]): string[] {
  const script = args.findIndex((arg) => !arg.startsWith('-'));
  return [...args.slice(0, script), ...extra, ...args.slice(script)];
}

/** Our gateway as `npm run gateway` runs it (the prebuilt CLI), with every protection on. */
function ours(responseCache: boolean): Contender['start'] {
  return (context, run, nodeArgs = []) =>
    launch(
      context,
      run,
      // The prebuilt CLI, as `npm start` and `npm run gateway` run it: Node alone, no TypeScript
      // loader, with the script's Node flags; extra flags (a profiler, another young generation)
      // after them, so a V8 flag given again overrides the script's.
      withNodeFlags(gatewayScriptArgs(), nodeArgs),
      {
        LOG_LEVEL: 'info',
        SUPERGRAPH_FILE: context.securedSupergraphFile,
        CLIENTS_FILE: context.clientsFile,
        GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(context.gatewayTokenKey),
        RESPONSE_CACHE: String(responseCache),
        DATA_DIR: join(context.workDir, `${run}-data`),
        WEBHOOK_SECRET_SEALING_KEY: BENCH_WEBHOOK_SEALING_KEY,
        // The platform subgraph URLs are not in this supergraph; nothing calls them.
      },
      context.clientHeaders,
    );
}

const baseline: Contender['start'] = (context, run, nodeArgs = []) =>
  launch(context, run, [...nodeArgs, 'bench/gateways/baseline-main.mjs'], {
    SUPERGRAPH_FILE: context.plainSupergraphFile,
  });

const peer: Contender['start'] = (context, run, nodeArgs = []) =>
  launch(
    context,
    run,
    [
      ...nodeArgs,
      hiveGatewayBin(),
      'supergraph',
      context.plainSupergraphFile,
      '--jit',
      '--fork',
      '1',
      '--host',
      '127.0.0.1',
      '--config-path',
      join(root, 'bench/gateways/peer.config.ts'),
    ],
    {},
  );

const OURS = `\`npm run gateway\` (\`node ${gatewayScriptArgs().join(' ')}\`) with every protection on: API key, per-client rate limit, @requiresScopes permissions checked before planning, operation limits, a log line per operation at info`;

export const CONTENDERS: readonly Contender[] = [
  {
    id: 'baseline',
    label: 'Apollo Gateway (baseline)',
    describe:
      '@apollo/gateway + @apollo/server standalone, as the reference configures it (no request sharing of its own, so identical and distinct requests cost it the same)',
    requests: 'identical',
    start: baseline,
  },
  {
    id: 'peer',
    label: 'Hive Gateway (peer)',
    describe:
      '@graphql-hive/gateway CLI as the reference configures it: `--jit`, inbound in-flight request deduplication on',
    requests: 'identical',
    start: peer,
  },
  {
    id: 'ours',
    label: 'ours, protections on, cache off',
    describe: `${OURS}; response cache off; identical queries in flight for one client share one execution`,
    requests: 'identical',
    start: ours(false),
  },
  {
    id: 'ours-cached',
    label: 'ours, protections on, cache on',
    describe: 'the same with the response cache on (in memory)',
    requests: 'identical',
    start: ours(true),
  },
  {
    id: 'peer-distinct',
    label: 'Hive Gateway, distinct requests',
    describe: 'the peer again, each connection sending its own copy of the query: nothing to deduplicate',
    requests: 'distinct',
    start: peer,
  },
  {
    id: 'ours-distinct',
    label: 'ours, cache off, distinct requests',
    describe:
      'ours (cache off) again, each connection sending its own copy of the query: nothing to coalesce',
    requests: 'distinct',
    start: ours(false),
  },
];
