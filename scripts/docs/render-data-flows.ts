import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { parse } from 'graphql';
import { readDeclarations, type Requirement } from '../../lib/auth/requirements.js';
import { METRICS_SCOPE } from '../../gateway/metrics-endpoint.js';
import { SCOPES } from '../../lib/auth/scopes.js';
import type { RecordType } from '../../lib/cache/record-cache.js';
import { catalog, type CatalogName } from '../../platforms/catalog.js';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';
import { DEFAULT_SUBGRAPH_URLS } from '../../lib/graphql/compose.js';
import { SUBGRAPH_NAMES, subgraphSchemaPath, type SubgraphName } from '../../lib/graphql/subgraph-names.js';
import { SUBGRAPH_ENV } from '../../subgraphs/registry.js';
import { connectorFacts } from './code-facts.js';
import { PLATFORM_DOCS, SITE_WEBHOOK, type PlatformDoc, type WebhookFlow } from './platforms.js';
import { subgraphFacts, type FieldFact, type SubgraphFacts } from './schema-facts.js';

/** Where `npm run docs` writes the document, relative to the repository root. */
export const DATA_FLOWS_FILE = 'docs/data-flows.md';

const TTL_VARIABLES: Record<RecordType, CatalogName> = {
  profile: 'CACHE_TTL_PROFILE_S',
  subscription: 'CACHE_TTL_SUBSCRIPTION_S',
  orders: 'CACHE_TTL_ORDERS_S',
  campaignReports: 'CACHE_TTL_CAMPAIGN_REPORTS_S',
};

const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;
const defaultOf = (name: CatalogName): string => {
  const entry = catalog[name];
  return 'default' in entry && entry.default !== undefined ? entry.default : 'unset';
};

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function scopesText(requirement: Requirement | undefined): string {
  if (!requirement) return 'nobody (undeclared)';
  return requirement
    .map((alternative) =>
      alternative.length === 0 ? 'an identified caller' : alternative.map(code).join(' + '),
    )
    .join(', or ');
}

function fieldRows(fields: readonly FieldFact[]): string[][] {
  return fields.map((field) => [
    `${code(field.coordinate)}: ${code(field.type)}`,
    scopesText(field.requirement),
    field.cache,
    field.deprecated ? `${field.description} **Deprecated:** ${field.deprecated}` : field.description,
  ]);
}

interface Context {
  root: string;
  facts: ReadonlyMap<SubgraphName, SubgraphFacts>;
}

function port(subgraph: SubgraphName): string {
  return new URL(DEFAULT_SUBGRAPH_URLS[subgraph]).port;
}

function diagram(): string {
  const lines = [
    '```mermaid',
    'flowchart LR',
    `  gw(("gateway<br/>:${defaultOf('PORT')} /graphql"))`,
    '  users["dashboards · personalization · explorer · subscribers"] -->|"GraphQL: queries over HTTP"| gw',
    '  gw ==>|"subscriptions: graphql-ws, SSE"| users',
  ];
  for (const doc of PLATFORM_DOCS) {
    lines.push(
      `  gw -->|"on-demand query, batch read"| ${doc.subgraph}["${doc.subgraph} subgraph<br/>:${port(doc.subgraph)}"]`,
      `  ${doc.subgraph} -->|"${doc.credential.scopes.length > 0 ? doc.credential.scopes.join(' ') : doc.credential.variable}"| ${doc.platform}[("${doc.title}<br/>${doc.api.split(' (')[0]}")]`,
    );
    if (doc.webhook) lines.push(`  ${doc.platform} -.->|"webhook POST /webhooks/${doc.webhook.source}"| gw`);
  }
  lines.push(
    `  site["the company site and forms"] -.->|"webhook POST /webhooks/${SITE_WEBHOOK.source}"| gw`,
    '  gw --- log[("event log")]',
    '  gw -->|"events, history, dead letters"| events["events subgraph<br/>(in the gateway process)"]',
    '```',
  );
  return lines.join('\n');
}

function summary(): string {
  return table(
    ['Platform', 'Role', 'Subgraph', 'Credential', 'Upstream scopes', 'Webhook endpoint'],
    [
      ...PLATFORM_DOCS.map((doc) => [
        doc.title,
        doc.role,
        code(doc.subgraph),
        code(doc.credential.variable),
        doc.credential.scopes.length > 0 ? doc.credential.scopes.map(code).join(' ') : 'none (see below)',
        doc.webhook ? code(`/webhooks/${doc.webhook.source}`) : 'none',
      ]),
      [
        'The company site',
        'events',
        code('events'),
        'none',
        'none',
        code(`/webhooks/${SITE_WEBHOOK.source}`),
      ],
    ],
  );
}

function webhookSection(flow: WebhookFlow): string {
  return [
    table(
      ['Endpoint', 'Signature', 'Replays', 'Configured by', 'Subscribe to', 'Becomes'],
      [
        [
          `${code(`POST /webhooks/${flow.source}`)} (direction: platform → gateway, real-time webhook)`,
          flow.signature,
          flow.replay,
          flow.variables.map(code).join(', '),
          flow.subscribe,
          Object.keys(flow.becomes).map(code).join(', '),
        ],
      ],
    ),
    '',
    "The gateway answers 200 only once the events are in the event log, then processes them apart: each processed event drops the records it changed from the subgraphs' caches and is delivered to subscribers. A request that fails its signature, timestamp or URL-secret check gets the same 401 sentence whatever the reason; the reason is logged and counted in `webhooks_rejected_total`. With `NODE_ENV=production` the gateway refuses to start with a public demo webhook secret.",
  ].join('\n');
}

function platformSection(doc: PlatformDoc, context: Context): string {
  const facts = context.facts.get(doc.subgraph);
  if (!facts) throw new Error(`no schema facts for ${doc.subgraph}`);
  const connector = connectorFacts(context.root, doc.platform);
  const secrets = SUBGRAPH_ENV[doc.subgraph].filter((name) => catalog[name as CatalogName].secret === true);
  const parts = [
    `## ${doc.title}: ${doc.role} (\`${doc.subgraph}\` subgraph)`,
    '',
    `${doc.api}, through \`platforms/${doc.platform}/client/\`. The \`${doc.subgraph}\` subgraph (\`${subgraphSchemaPath(doc.subgraph)}\`, port ${port(doc.subgraph)}) reads this platform and no other.`,
    '',
    '### Flows',
    '',
    table(
      ['Flow', 'Kind', 'Direction', 'What it reads'],
      [
        ...facts.entryPoints.map((entry) => [
          code(entry.coordinate),
          entry.kind,
          `${doc.title} → ${doc.subgraph} → gateway → client`,
          entry.description,
        ]),
        ...facts.joins.map((join) => [
          `${code(join.type)} by ${join.keys.map(code).join(' or ')}`,
          `${join.kind} (entity references batched per request)`,
          `${doc.title} → ${doc.subgraph} → gateway → client`,
          `Adds ${facts.owned
            .filter((f) => f.coordinate.startsWith(`${join.type}.`))
            .map((f) => code(f.coordinate.split('.')[1] ?? ''))
            .join(', ')} to ${code(join.type)} entities the gateway resolved elsewhere.`,
        ]),
        ...(doc.webhook
          ? [
              [
                code(`POST /webhooks/${doc.webhook.source}`),
                'real-time webhook',
                `${doc.title} → gateway → event log → subscribers`,
                `${Object.keys(doc.webhook.becomes).map(code).join(', ')} events.`,
              ],
            ]
          : []),
      ],
    ),
    '',
    `Platform endpoints the connector calls: ${connector.endpoints.map(code).join(', ')}.`,
    '',
    '### System of record',
    '',
    `The fields below are read from ${doc.title}; no other platform answers them. Scopes are what a client needs to read the field (the type's, the field's and the returned type's requirements together); the response cache column is the field's \`@cacheControl\` hint.`,
    '',
    table(['Field', 'Needs scopes', 'Response cache', 'Meaning'], fieldRows(facts.owned)),
    '',
    ...(facts.enums.length > 0
      ? [`Enums: ${facts.enums.map((e) => `${code(e.name)} (${e.values.join(', ')})`).join('; ')}.`, '']
      : []),
    ...(facts.shared.length > 0 ? [`Shared value types: ${facts.shared.map(code).join(', ')}.`, ''] : []),
    '### Caching',
    '',
    connector.recordTypes.length > 0
      ? table(
          ['Record cache', 'Variable', 'Default', 'Meaning'],
          connector.recordTypes.map((type) => {
            const variable = TTL_VARIABLES[type];
            return [code(type), code(variable), `${defaultOf(variable)} s`, catalog[variable].description];
          }),
        )
      : `No record cache: every read goes to ${doc.title}; only the response cache's \`@cacheControl\` hints apply.`,
    '',
    '### Rate limits and throttling',
    '',
    table(
      ['Published limit', 'How the connector keeps to it', 'Tune with'],
      doc.limits.map((limit) => [
        limit.published,
        limit.throttle,
        limit.variables.length > 0 ? limit.variables.map(code).join(', ') : 'fixed',
      ]),
    ),
    '',
    `Calls queue rather than fail; a call that would wait past its request's deadline fails at once with \`UPSTREAM_RATE_LIMITED\`. Idempotent reads are retried after a 429, 5xx or timeout up to \`UPSTREAM_MAX_RETRIES\` (${defaultOf('UPSTREAM_MAX_RETRIES')}) times within the deadline; every call times out after \`UPSTREAM_TIMEOUT_MS\` (${defaultOf('UPSTREAM_TIMEOUT_MS')} ms) or at the request's deadline, whichever comes first (the client's \`x-request-deadline-ms\`, else \`REQUEST_DEADLINE_MS\`, ${defaultOf('REQUEST_DEADLINE_MS')} ms; cut by the deadline, it fails with \`UPSTREAM_TIMEOUT\`, \`upstreamCode: REQUEST_DEADLINE\`). After 5 consecutive failures the circuit breaker opens: calls fail at once with \`UPSTREAM_UNAVAILABLE\` (\`upstreamCode: CIRCUIT_OPEN\`), and after 10 s the breaker's own background read, never a user's request, decides whether it closes.`,
    '',
    '### Credentials',
    '',
    table(
      ['Variable', 'Upstream scopes', 'Least privilege'],
      [
        [
          code(doc.credential.variable),
          doc.credential.scopes.length > 0 ? doc.credential.scopes.map(code).join(' ') : 'none exist',
          doc.credential.leastPrivilege,
        ],
      ],
    ),
    '',
    `The subgraph process reads only ${SUBGRAPH_ENV[doc.subgraph].map(code).join(', ')}; its secrets (${secrets.map(code).join(', ')}) can be given as files with \`_FILE\`. It answers only the gateway: a request without a valid gateway token (\`GATEWAY_TOKEN_JWKS\`), or with one it has already accepted or that was signed for another request, gets 401.`,
    '',
    '### Webhooks',
    '',
    doc.webhook
      ? webhookSection(doc.webhook)
      : `${doc.title} pushes nothing this graph uses: its figures are read on demand.`,
  ];
  return parts.join('\n');
}

function eventsSection(context: Context): string {
  const facts = context.facts.get('events');
  if (!facts) throw new Error('no schema facts for events');
  return [
    '## The company site and the event log (`events` subgraph)',
    '',
    "The company's own site and forms push events signed with Standard Webhooks. Every webhook source lands in the event log; the `events` subgraph, served by the gateway process itself, answers the history and the operators' dead letters, and the gateway pushes live events to subscribers.",
    '',
    '### Flows',
    '',
    table(
      ['Flow', 'Kind', 'Direction', 'What it does'],
      [
        ...facts.entryPoints.map((entry) => [
          code(entry.coordinate),
          entry.kind,
          {
            'real-time subscription': 'event log → gateway → subscriber',
            'on-demand command': 'client → gateway → events → event log',
            'on-demand query': 'event log → events → gateway → client',
            'batch read': 'event log → events → gateway → client',
          }[entry.kind],
          entry.description,
        ]),
        [
          code(`POST /webhooks/${SITE_WEBHOOK.source}`),
          'real-time webhook',
          'site → gateway → event log → subscribers',
          `${Object.keys(SITE_WEBHOOK.becomes).map(code).join(', ')} events.`,
        ],
      ],
    ),
    '',
    '### System of record',
    '',
    table(['Field', 'Needs scopes', 'Response cache', 'Meaning'], fieldRows(facts.owned)),
    '',
    `Enums: ${facts.enums.map((e) => `${code(e.name)} (${e.values.join(', ')})`).join('; ')}.`,
    '',
    '### Webhooks',
    '',
    webhookSection(SITE_WEBHOOK),
    '',
    `Events are kept \`EVENTS_RETENTION_DAYS\` (${defaultOf('EVENTS_RETENTION_DAYS')}) days and at most \`EVENTS_RETENTION_MAX\` (${defaultOf('EVENTS_RETENTION_MAX')}); the log is \`EVENT_LOG\` (${defaultOf('EVENT_LOG')}).`,
  ].join('\n');
}

function scopesSection(context: Context): string {
  const fields = [...context.facts.values()].flatMap((facts) => [...facts.entryPoints, ...facts.owned]);
  return [
    '## Field permission scopes',
    '',
    "Declared next to the data with `@requiresScopes` in each subgraph's SDL, enforced by the gateway before planning and again in each subgraph. The fields needing each scope:",
    '',
    table(
      ['Scope', 'Grants', 'Fields'],
      Object.entries(SCOPES).map(([scope, grants]) => {
        const needing = fields
          .filter((field) => field.requirement?.some((alternative) => alternative.includes(scope)))
          .map((field) => field.coordinate);
        const guards =
          scope === METRICS_SCOPE
            ? 'no field: `GET /metrics`'
            : scope === 'schema:read'
              ? 'no field: introspection (`__schema`, `__type`)'
              : 'no field';
        return [
          code(scope),
          grants,
          needing.length > 0 ? [...new Set(needing)].map(code).join(', ') : guards,
        ];
      }),
    ),
  ].join('\n');
}

/** The data-flow document, generated from the SDLs, the supergraph and the code; Prettier-formatted. */
export async function renderDataFlows(root: string = process.cwd()): Promise<string> {
  const supergraph = readFileSync(join(root, 'schema/supergraph.graphql'), 'utf8');
  const apiSchema = apiSchemaOf(supergraph);
  const declarations = readDeclarations(parse(supergraph));
  const facts = new Map(
    SUBGRAPH_NAMES.map((name) => [
      name,
      subgraphFacts(
        name,
        readFileSync(join(root, subgraphSchemaPath(name)), 'utf8'),
        apiSchema,
        declarations,
      ),
    ]),
  );
  const context: Context = { root, facts };
  const markdown = [
    '# Data flows',
    '',
    '<!-- Generated by `npm run docs` (scripts/docs/) from schema/*.graphql, schema/supergraph.graphql, lib/config/catalog.ts, lib/auth/scopes.ts and platforms/ (the registry, each descriptor and client). Do not edit: a test fails when it is stale. -->',
    '',
    'Every flow of data between the marketing platforms, the graph and its users: what each platform is the system of record for, how each flow runs, how long its data is cached, the limits it is held to, and the credentials, scopes and signatures that guard it.',
    '',
    "Kinds of flow: an **on-demand query** reads the platform when a client asks (through the record and response caches, entity look-ups batched per request); a **batch read** reads a whole date range's report in pages (cached as a campaign report); a **real-time webhook** is pushed by the platform to the gateway as it happens; a **real-time subscription** is pushed by the gateway to subscribers. The graph writes nothing to any platform: every upstream credential is read-only.",
    '',
    diagram(),
    '',
    summary(),
    '',
    ...PLATFORM_DOCS.flatMap((doc) => [platformSection(doc, context), '']),
    eventsSection(context),
    '',
    scopesSection(context),
    '',
  ].join('\n');
  const file = join(root, DATA_FLOWS_FILE);
  return format(markdown, { ...(await resolveConfig(file)), filepath: file });
}
