// First: turns @apollo/gateway's calls home off before anything loads it.
import '../lib/config/apollo-telemetry.js';
import { catalog } from '../platforms/catalog.js';
import { PLATFORM_NAMES } from '../platforms/registry.js';
import { CONFIG_EXIT_CODE, ConfigError, loadEnv } from '../lib/config/env.js';
import { isPlatformSubgraphName, PLATFORM_SUBGRAPHS } from '../lib/graphql/subgraph-names.js';
import { createLogger } from '../lib/logger.js';
import { startTracingFromEnv } from '../lib/telemetry/tracing.js';
import { isCommandName } from './command-names.js';
import { UsageError } from './usage.js';
import { packageVersion } from './version.js';

const USAGE = `Usage: marketing-graph <command>

Commands:
  start                 everything in one process: sandboxes, subgraphs and gateway (the embedded demo)
  gateway               the gateway alone, configured by subgraph URLs
  worker                the background jobs (event processing, retention) alone, sharing a Redis event log
  subgraph <name>       one subgraph alone (${PLATFORM_SUBGRAPHS.join(', ')}), configured by its platform's URL and credentials
  sandbox <platform>    one platform sandbox alone (${PLATFORM_NAMES.join(', ')})
  compose [--check]     compose schema/*.graphql into schema/supergraph.graphql (--check: fail if it is stale)
  clients <command>     API clients and keys in CLIENTS_FILE (list, create, add-key, expire-key, revoke-key)
  endpoints <command>   webhook endpoints through the gateway (list, create, rotate, disable, enable, delete, replay, recover)
  keys gateway-token    a new key pair for the gateway's caller tokens (GATEWAY_TOKEN_PRIVATE_JWK, GATEWAY_TOKEN_JWKS)
  sync <command>        batch syncs in SYNCS_FILE (list, run NAME [--dry-run] [--full])
  review                the quarterly integration review (Markdown and HTML) from the gateway's health model

  <command> --help      what the command does and the configuration variables it reads
  --version             the version of marketing-graph

Configuration comes from environment variables; see the README's configuration table.`;

const HELP_FLAGS = ['--help', '-h'];
/** Commands that serve, and so export traces when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
const SERVER_COMMANDS = new Set(['start', 'gateway', 'subgraph', 'sandbox', 'worker']);

async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  // Before anything loads configuration or listens: asking for help never starts a server.
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const helpFor =
    command === 'help' ? rest[0] : rest.some((arg) => HELP_FLAGS.includes(arg)) ? command : undefined;
  if (helpFor !== undefined) {
    if (!isCommandName(helpFor)) throw new UsageError(`unknown command "${helpFor}"`);
    const args = command === 'help' ? rest.slice(1) : rest;
    const { commandHelp, renderHelp } = await import('./help.js');
    process.stdout.write(renderHelp(commandHelp(helpFor, args)));
    return 0;
  }
  const logLevel = () => loadEnv(catalog, ['LOG_LEVEL'], process.env).LOG_LEVEL;
  if (command !== undefined && SERVER_COMMANDS.has(command)) {
    const part = command === 'subgraph' || command === 'sandbox' ? `${command}-${rest[0] ?? ''}` : command;
    await startTracingFromEnv(
      `marketing-graph-${part}`,
      createLogger({ name: 'telemetry', level: logLevel() }),
    );
  }
  // Each command's modules load only when it runs: `--version` and usage errors stay quick.
  switch (command) {
    case 'start':
      return (await import('./commands/start.js')).startCommand(logLevel());
    case 'gateway':
      return (await import('./commands/gateway.js')).gatewayCommand(
        createLogger({ name: 'gateway', level: logLevel() }),
      );
    case 'worker':
      return (await import('./commands/worker.js')).workerCommand(
        createLogger({ name: 'worker', level: logLevel() }),
      );
    case 'subgraph': {
      const name = rest[0] ?? '';
      if (!isPlatformSubgraphName(name))
        throw new UsageError(`unknown subgraph "${name}"; expected one of ${PLATFORM_SUBGRAPHS.join(', ')}`);
      return (await import('./commands/subgraph.js')).subgraphCommand(
        name,
        createLogger({ name: `subgraph:${name}`, level: logLevel() }),
      );
    }
    case 'sandbox':
      return (await import('./commands/sandbox.js')).sandboxCommand(rest[0] ?? '', logLevel());
    case 'compose':
      return (await import('./commands/compose.js')).composeCommand(rest.includes('--check'));
    case 'clients':
      return (await import('./commands/clients.js')).clientsCommand(
        rest,
        loadEnv(catalog, ['CLIENTS_FILE'], process.env).CLIENTS_FILE,
      );
    case 'keys':
      return (await import('./commands/keys.js')).keysCommand(rest);
    case 'endpoints': {
      const env = loadEnv(catalog, ['GATEWAY_URL', 'MARKETING_GRAPH_API_KEY'], process.env);
      return (await import('./commands/endpoints.js')).endpointsCommand(rest, {
        gatewayUrl: `${env.GATEWAY_URL}/graphql`,
        apiKey: env.MARKETING_GRAPH_API_KEY,
      });
    }
    case 'sync':
      return (await import('./commands/sync.js')).syncCommand(rest, logLevel());
    case 'review': {
      const env = loadEnv(catalog, ['GATEWAY_URL', 'MARKETING_GRAPH_API_KEY'], process.env);
      return (await import('./commands/review.js')).reviewCommand(rest, {
        gatewayOrigin: env.GATEWAY_URL,
        apiKey: env.MARKETING_GRAPH_API_KEY,
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    const [message, code] = failure(error);
    // Exit once the message is out: a part opened before the failure (a Redis connection, a
    // listener) would otherwise keep a process that cannot start alive.
    process.stderr.write(message, () => process.exit(code));
  },
);

/** What a failed command prints and the code it exits with. */
function failure(error: unknown): [string, number] {
  if (error instanceof ConfigError) return [`${error.message}\n`, CONFIG_EXIT_CODE];
  if (error instanceof UsageError) return [`${error.message}\n\n${USAGE}\n`, CONFIG_EXIT_CODE];
  // The gateway's answer (a refusal with its code, or no answer): said as it is, without a stack.
  if (error instanceof Error && error.name === 'GatewayRefusal') return [`${error.message}\n`, 1];
  if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE')
    return [
      `Cannot start: ${error.message}. Another process holds that port; set its *_PORT variable to another port.\n`,
      1,
    ];
  return [`Failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, 1];
}
