// First: turns @apollo/gateway's calls home off before anything loads it.
import '../lib/config/apollo-telemetry.js';
import { catalog } from '../lib/config/catalog.js';
import { CONFIG_EXIT_CODE, ConfigError, loadEnv } from '../lib/config/env.js';
import { isPlatformSubgraphName, PLATFORM_SUBGRAPHS } from '../lib/graphql/subgraph-names.js';
import { createLogger } from '../lib/logger.js';
import { clientsCommand } from './commands/clients.js';
import { composeCommand } from './commands/compose.js';
import { keysCommand } from './commands/keys.js';
import { gatewayCommand } from './commands/gateway.js';
import { sandboxCommand } from './commands/sandbox.js';
import { startCommand } from './commands/start.js';
import { subgraphCommand } from './commands/subgraph.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: marketing-graph <command>

Commands:
  start                 everything in one process: sandboxes, subgraphs and gateway (the embedded demo)
  gateway               the gateway alone, configured by subgraph URLs
  subgraph <name>       one subgraph alone (${PLATFORM_SUBGRAPHS.join(', ')}), configured by its platform's URL and credentials
  sandbox <platform>    one platform sandbox alone (hubspot, mailchimp, shopify, meta)
  compose [--check]     compose schema/*.graphql into schema/supergraph.graphql (--check: fail if it is stale)
  clients <command>     API clients and keys in CLIENTS_FILE (list, create, add-key, expire-key, revoke-key)
  keys gateway-token    a new key pair for the gateway's caller tokens (GATEWAY_TOKEN_PRIVATE_JWK, GATEWAY_TOKEN_JWKS)

Configuration comes from environment variables; see the README's configuration table.`;

async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  const logLevel = () => loadEnv(catalog, ['LOG_LEVEL'], process.env).LOG_LEVEL;
  switch (command) {
    case 'start':
      return startCommand(logLevel());
    case 'gateway':
      return gatewayCommand(createLogger({ name: 'gateway', level: logLevel() }));
    case 'subgraph': {
      const name = rest[0] ?? '';
      if (!isPlatformSubgraphName(name))
        throw new UsageError(`unknown subgraph "${name}"; expected one of ${PLATFORM_SUBGRAPHS.join(', ')}`);
      return subgraphCommand(name, createLogger({ name: `subgraph:${name}`, level: logLevel() }));
    }
    case 'sandbox':
      return sandboxCommand(rest[0] ?? '', logLevel());
    case 'compose':
      return composeCommand(rest.includes('--check'));
    case 'clients':
      return clientsCommand(rest, loadEnv(catalog, ['CLIENTS_FILE'], process.env).CLIENTS_FILE);
    case 'keys':
      return keysCommand(rest);
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
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = CONFIG_EXIT_CODE;
    } else if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exitCode = CONFIG_EXIT_CODE;
    } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      process.stderr.write(
        `Cannot start: ${error.message}. Another process holds that port; set its *_PORT variable to another port.\n`,
      );
      process.exitCode = 1;
    } else {
      process.stderr.write(
        `Failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
