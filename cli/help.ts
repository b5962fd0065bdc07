import { AUTH_ENV } from '../gateway/auth/config.js';
import { GATEWAY_ENV } from '../gateway/config.js';
import { ACTIONS_ENV } from './actions.js';
import { EVENTS_ENV } from '../events/config.js';
import { CACHE_ENV } from '../lib/cache/config.js';
import { HTTP_LIMITS_ENV } from '../lib/server/limits.js';
import { METRICS_ENV } from '../lib/server/metrics-endpoint.js';
import { catalog, type CatalogName } from '../platforms/catalog.js';
import { PLATFORM_SUBGRAPHS, isPlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import { SUBGRAPH_ENV } from '../subgraphs/env.js';
import type { CommandName } from './command-names.js';
import { CLIENTS_USAGE } from './commands/clients.js';
import { ENDPOINTS_USAGE } from './commands/endpoints.js';
import { REVIEW_USAGE } from './commands/review.js';
import { PLATFORM_NAMES, PLATFORMS } from '../platforms/registry.js';
import {
  SANDBOX_PORT_VARIABLES,
  sandboxEnv,
  START_ENV_ALL,
  SYNC_ENV,
  SYNC_USAGE,
  WORKER_ENV,
  WORKER_SYNC_ENV,
  ALERTS_ENV,
  GATEWAY_SYNC_ENV,
} from './command-env.js';

/** The credential variable of each platform with actions: setting one lets a `worker` or `gateway` run its actions. */
const ACTION_CREDENTIALS = PLATFORMS.filter((platform) => platform.actions !== undefined)
  .map((platform) => platform.credential.variable)
  .join(', ');

/**
 * `<command> --help`: what a command does and every configuration variable it reads, from the same
 * lists the command loads and described by the configuration catalog. Printing help loads no
 * configuration and starts nothing.
 */
export interface CommandHelp {
  /** The command line, such as `subgraph <name>`. */
  usage: string;
  summary: string;
  /** The variables the command reads, in the order shown. */
  variables: readonly CatalogName[];
  /** Further text, such as the sub-commands of `clients`. */
  details?: string;
}

const unique = (...lists: readonly (readonly string[])[]): CatalogName[] =>
  [...new Set(lists.flat())] as CatalogName[];

/**
 * The help of `command`; `args` narrows it where the reading depends on them (`subgraph crm` reads
 * its own platform's variables only, `subgraph` alone lists every subgraph's).
 */
export function commandHelp(command: CommandName, args: readonly string[] = []): CommandHelp {
  const part = args.find((arg) => !arg.startsWith('-'));
  switch (command) {
    case 'start':
      return {
        usage: 'start',
        summary:
          'The embedded demo in one process: four platform sandboxes with generated data, the four subgraphs wired to them, and the gateway with the explorer, live demo webhooks and a fresh gateway token key pair.',
        variables: unique(['LOG_LEVEL'], START_ENV_ALL, AUTH_ENV, CACHE_ENV, EVENTS_ENV),
      };
    case 'gateway':
      return {
        usage: 'gateway',
        summary: `The gateway alone, in front of subgraphs running elsewhere (their URLs below). It needs the private key it signs caller tokens with: \`keys gateway-token\` prints a pair. Unless workers run them (BACKGROUND_JOBS=worker), it runs the background jobs itself, the routing rules' actions included: on each platform whose credential variable it is given (${ACTION_CREDENTIALS}, with the rest of that platform's variables as its subgraph reads them).`,
        variables: unique(
          ['LOG_LEVEL'],
          GATEWAY_ENV,
          ACTIONS_ENV,
          AUTH_ENV,
          CACHE_ENV,
          EVENTS_ENV,
          HTTP_LIMITS_ENV,
          ALERTS_ENV,
          GATEWAY_SYNC_ENV,
        ),
      };
    case 'worker':
      return {
        usage: 'worker',
        summary: `The background jobs alone (the routing rules' actions, event processing, webhook deliveries, retention; the batch syncs with WORKER_SYNCS=on), for gateways run with BACKGROUND_JOBS=worker: any number of workers share the Redis event log, delivery store and action outbox, and what a worker held when it died goes to another. It reads the graph through a gateway (GATEWAY_URL): as the event processor for routing, as an endpoint's owner for a webhook's enrichment. It runs actions on each platform whose credential variable it is given (${ACTION_CREDENTIALS}, with the rest of that platform's variables as its subgraph reads them), and serves /health and /metrics (to a scraper holding METRICS_TOKEN) on WORKER_PORT.`,
        variables: unique(['LOG_LEVEL'], WORKER_ENV, WORKER_SYNC_ENV, SANDBOX_PORT_VARIABLES),
      };
    case 'subgraph': {
      const names = isPlatformSubgraphName(part ?? '')
        ? [part as keyof typeof SUBGRAPH_ENV]
        : PLATFORM_SUBGRAPHS;
      return {
        usage: `subgraph ${names.length === 1 ? names[0] : `<${PLATFORM_SUBGRAPHS.join('|')}>`}`,
        summary: `One subgraph alone, holding only its own platform's credentials, answering only the gateway (GATEWAY_TOKEN_JWKS), and /metrics to a scraper holding METRICS_TOKEN.${
          names.length > 1
            ? ' Each reads its own platform’s variables: `subgraph <name> --help` lists one.'
            : ''
        }`,
        variables: unique(
          ['LOG_LEVEL', 'HOST'],
          ...names.map((name) => SUBGRAPH_ENV[name]),
          CACHE_ENV,
          HTTP_LIMITS_ENV,
          METRICS_ENV,
        ),
      };
    }
    case 'sandbox': {
      const all = PLATFORM_NAMES;
      const platforms = all.filter((platform) => platform === part);
      if (platforms.length === 0) platforms.push(...all);
      return {
        usage: `sandbox ${platforms.length === 1 ? platforms[0] : `<${all.join('|')}>`}`,
        summary:
          'One platform sandbox alone: the platform’s API contract with the same generated data as `start`, for connector work against a local stand-in; /metrics (requests, 429s, injected faults) to a scraper holding METRICS_TOKEN.',
        variables: unique(['LOG_LEVEL'], ...platforms.map((platform) => sandboxEnv(platform))),
      };
    }
    case 'compose':
      return {
        usage: 'compose [--check]',
        summary:
          'Composes schema/*.graphql into schema/supergraph.graphql; with --check, fails (exit 1) when the committed supergraph is stale. Reads no configuration variables.',
        variables: [],
      };
    case 'clients':
      return {
        usage: 'clients <command> [options]',
        summary: 'API clients and keys in the client registry.',
        variables: ['CLIENTS_FILE'],
        details: CLIENTS_USAGE.split('\n').slice(1).join('\n').trim(),
      };
    case 'endpoints':
      return {
        usage: 'endpoints <command> [options]',
        summary:
          "Webhook endpoints through the gateway's GraphQL API: list, create, rotate a secret, disable, enable, delete, replay a message, recover after an outage.",
        variables: ['GATEWAY_URL', 'MARKETING_GRAPH_API_KEY'],
        details: ENDPOINTS_USAGE.split('\n').slice(1).join('\n').trim(),
      };
    case 'sync':
      return {
        usage: 'sync <command>',
        summary:
          'Batch syncs declared in SYNCS_FILE: each reads a GraphQL query through the gateway and writes only what changed to a platform (the demo sandboxes). `sync list` lists them; `sync run NAME` runs one now (`--dry-run`: counts and samples, nothing written; `--full`: resend every row).',
        variables: [...SYNC_ENV, ...SANDBOX_PORT_VARIABLES] as CatalogName[],
        details: SYNC_USAGE.split('\n').slice(1).join('\n').trim(),
      };
    case 'review':
      return {
        usage: 'review [--out <dir>] [--quarter <YYYY-Qn>]',
        summary:
          "The quarterly integration review from the gateway's health model and the platform descriptors: Markdown and HTML with inline SVG charts, a keep/fix/retire recommendation per connection.",
        variables: ['GATEWAY_URL', 'MARKETING_GRAPH_API_KEY'],
        details: REVIEW_USAGE.split('\n').slice(1).join('\n').trim(),
      };
    case 'keys':
      return {
        usage: 'keys gateway-token',
        summary:
          'Prints a new Ed25519 key pair for the caller tokens the gateway signs: GATEWAY_TOKEN_PRIVATE_JWK for the gateway, GATEWAY_TOKEN_JWKS for every subgraph. Reads no configuration variables.',
        variables: [],
      };
  }
}

/** `text` in lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

function variableLines(name: CatalogName): string {
  const v = catalog[name];
  const value = v.default !== undefined ? `default ${v.default}` : v.required ? 'required' : 'optional';
  const file = v.secret ? `, or ${name}_FILE` : '';
  return `  ${name}${file}   (${value}; ${v.expected})\n${wrap(v.description, '      ')}`;
}

export function renderHelp(help: CommandHelp): string {
  const parts = [`Usage: marketing-graph ${help.usage}`, '', wrap(help.summary, '')];
  if (help.details) parts.push('', help.details);
  if (help.variables.length > 0)
    parts.push(
      '',
      'Configuration (environment variables; a bad value stops it with exit code 2):',
      ...help.variables.map(variableLines),
    );
  return `${parts.join('\n')}\n`;
}
