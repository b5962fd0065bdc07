import { z } from 'zod';
import { ROLE_DEFAULT_PORTS } from '../__generated__/vocabulary.js';
import {
  PLATFORM_SUBGRAPHS,
  defaultSubgraphUrl,
  subgraphPortVariable,
  subgraphUrlVariable,
  type PlatformSubgraphName,
} from '../graphql/subgraph-names.js';
import { env } from './env.js';

/** One entry per role subgraph (`CRM_PORT`, ...), keyed by the variable `variable` names. */
function perRole<V extends string, E>(
  variable: (name: PlatformSubgraphName) => V,
  entry: (name: PlatformSubgraphName) => E,
): Record<V, E> {
  // The keys are exactly the roles' variables; fromEntries cannot say so in its type.
  return Object.fromEntries(PLATFORM_SUBGRAPHS.map((name) => [variable(name), entry(name)])) as Record<V, E>;
}

/**
 * The environment variables every part shares, whatever the platforms. Each platform's own (its
 * credentials, limits, webhook secrets, sandbox port) are in its descriptor, `platforms/<name>/`;
 * `platforms/catalog.ts` composes both into the one catalog every part loads from. Each part
 * (gateway, a subgraph, a sandbox) loads only the names it needs, so a subgraph process never sees
 * another platform's credentials.
 */
export const coreCatalog = {
  // ── all parts ──────────────────────────────────────────────────────────────
  HOST: env.host({ description: 'Address every part binds to.', default: '127.0.0.1' }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    description: 'Minimum level of the JSON log lines written to stdout.',
    default: 'info',
  }),
  NODE_ENV: env.oneOf(['development', 'production', 'test'], {
    description:
      'Deployment mode. `production` hides schema hints and refuses demo credentials (API keys, webhook secrets).',
    default: 'development',
  }),
  HTTP_REQUEST_TIMEOUT_MS: env.int(100, 600_000, {
    description:
      'Time a client has to send one whole request, headers and body; a slower one gets 408 and its connection is closed. Responses, WebSockets and SSE streams are not limited by it.',
    default: '30000',
  }),
  HTTP_HEADERS_TIMEOUT_MS: env.int(100, 600_000, {
    description:
      "Time a client has to send a request's headers (at most `HTTP_REQUEST_TIMEOUT_MS`); a slower one gets 408.",
    default: '10000',
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.int(1000, 600_000, {
    description:
      "How long an idle keep-alive connection stays open; keep it above a load balancer's idle timeout (60 s on AWS ALB).",
    default: '65000',
  }),
  HTTP_MAX_CONNECTIONS: env.int(1, 1_000_000, {
    description:
      "Connections each server holds at once (keep-alive, WebSockets, SSE); one more is closed as it arrives and counted in `http_connections_dropped_total`. Keep it below the process's open-file limit.",
    default: '10000',
  }),
  APOLLO_TELEMETRY_DISABLED: env.boolean({
    description:
      "`@apollo/gateway`'s anonymous usage metrics to Apollo (`usage-reporting.api.apollographql.com`) and the cloud-metadata probes that go with them (AWS, GCP, Azure, Alibaba). Off in every process started here unless set to `false` (or `0`, `off`, `no`): the opt-in; any other value keeps it off.",
    default: 'true',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url({
    description:
      'OpenTelemetry collector to export traces to over OTLP/HTTP (`http://collector:4318`; traces go to `/v1/traces`). Unset: no traces are made or sent. Every process reads it (gateway, subgraphs, sandboxes, `npm start`); the exporter also honours the standard `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TIMEOUT`.',
  }),
  OTEL_SERVICE_NAME: env.string({
    description:
      'The `service.name` of this process in traces. Default: `marketing-graph-<command>` (`marketing-graph-gateway`, `marketing-graph-subgraph-crm`, ...).',
  }),
  ALERT_RULES_FILE: env.path({
    description:
      'Alert rules over the health model (YAML: channels and rules; see the README, "Alerts"). The gateway evaluates them every `ALERT_EVALUATE_INTERVAL_MS`. The default is the demo\'s rules, which notify the log only.',
    default: 'monitoring/demo-alerts.yaml',
  }),
  ALERT_EVALUATE_INTERVAL_MS: env.int(1_000, 3_600_000, {
    description: 'How often the alert rules are evaluated.',
    default: '15000',
  }),
  ALERT_STATUS_URL: env.url({
    description:
      "The status page's address in alert notices (`https://graph.example.com/status`). Unset: the gateway's own address.",
  }),
  HEALTH_SHARE_INTERVAL_MS: env.int(200, 300_000, {
    description:
      "With the Redis event log: how often each `worker` publishes its connections' health (deliveries, actions, syncs, its platform calls) to Redis under EVENT_LOG_PREFIX, and each gateway reads them into `integrations`, `/status` and the alerts. A worker that stops publishing drops out after three periods.",
    default: '5000',
  }),
  HEALTH_HISTORY_RETENTION_DAYS: env.int(1, 3650, {
    description:
      "How long the health history keeps each connection's hourly figures (calls, errors by class, latency histogram, throttled time, freshness), for `review` over a quarter. Kept in the event log's store: the SQLite file (DATA_DIR/events.db) or, with EVENT_LOG=redis, Redis under EVENT_LOG_PREFIX. Each process also saves its last 24 hours there, so a restarted gateway or worker shows its figures again.",
    default: '100',
  }),

  // ── gateway ────────────────────────────────────────────────────────────────
  PORT: env.port({
    description: 'Port of the gateway (GraphQL at `/graphql`, health at `/health`).',
    default: '4000',
  }),
  SUPERGRAPH_FILE: env.path({
    description: 'Composed supergraph SDL the gateway serves (`npm run compose` writes it).',
    default: 'schema/supergraph.graphql',
  }),
  ...perRole(subgraphUrlVariable, (name) =>
    env.url({ description: `GraphQL URL of the \`${name}\` subgraph.`, default: defaultSubgraphUrl(name) }),
  ),
  SUBGRAPH_TIMEOUT_MS: env.int(100, 120_000, {
    description: 'How long the gateway waits for one subgraph fetch before failing that part of the plan.',
    default: '15000',
  }),
  REQUEST_DEADLINE_MS: env.int(100, 120_000, {
    description:
      'Deadline of a request that sends no `x-request-deadline-ms` header, from its arrival: platform reads still unanswered by then fail with `UPSTREAM_TIMEOUT` (`upstreamCode: REQUEST_DEADLINE`).',
    default: '15000',
  }),
  REQUEST_DEADLINE_MAX_MS: env.int(100, 120_000, {
    description:
      'Longest deadline a client may ask for with `x-request-deadline-ms`; a longer one counts as this.',
    default: '30000',
  }),

  // ── who is calling (gateway) ───────────────────────────────────────────────
  CLIENTS_FILE: env.path({
    description:
      'Client registry (JSON or YAML): clients, their scopes, rate limits and hashed API keys. Defaults to the demo registry, which production refuses.',
    default: 'gateway/auth/demo-clients.json',
  }),
  OIDC_ISSUER: env.url({
    description:
      'Issuer of OAuth 2.0 / OIDC access tokens accepted from user-context clients; unset turns JWTs off.',
  }),
  OIDC_AUDIENCE: env.string({ description: 'Audience those access tokens must carry.' }),
  OIDC_JWKS_URL: env.url({
    description: "URL of the issuer's JSON Web Key Set (keys are cached and refetched on an unknown `kid`).",
  }),
  OIDC_ALGORITHMS: env.string({
    description: 'Comma-separated JWS algorithms accepted for access tokens (never `none`, never HS*).',
    default: 'RS256,ES256,PS256,EdDSA',
  }),
  OIDC_CLOCK_TOLERANCE_S: env.int(0, 300, {
    description: 'Clock skew tolerated on `exp` and `nbf`.',
    default: '30',
  }),
  AUTHORIZATION_MODE: env.oneOf(['filter', 'strict'], {
    description:
      '`filter`: a field the caller may not see is removed and reported as a FORBIDDEN error at its path; `strict`: the whole operation is refused.',
    default: 'filter',
  }),
  SUBSCRIPTIONS_PER_CONNECTION: env.int(1, 10_000, {
    description:
      'Subscriptions one graphql-ws connection may hold open at once; one more is refused with RATE_LIMITED.',
    default: '20',
  }),
  SUBSCRIPTIONS_PER_CLIENT: env.int(1, 100_000, {
    description:
      'Subscriptions one client may hold open at once on one gateway instance, over every connection and SSE stream, unless its registry entry sets `maxSubscriptions`.',
    default: '100',
  }),
  // Required by the processes that run alone (`gateway`, `subgraph <name>`); `start` makes its own pair.
  GATEWAY_TOKEN_PRIVATE_JWK: {
    ...env.secret({
      description:
        'Private Ed25519 JWK (JSON, with `kid`) the gateway signs its short-lived caller tokens to subgraphs with; `keys gateway-token` prints a pair. Required by `gateway` and by `worker` (which signs the event processor’s reads and cache invalidations with it); `npm start` makes a fresh one.',
      required: true,
    }),
    expected: 'a private Ed25519 JWK (JSON with a kid)',
  },
  GATEWAY_TOKEN_JWKS: {
    ...env.string({
      description:
        'Public JWK set (JSON) a subgraph accepts gateway tokens from; list the old and the new key while rotating. Required by each `subgraph <name>`; `npm start` wires its own.',
      required: true,
    }),
    expected: 'a JSON Web Key Set of public Ed25519 keys, each with a kid',
  },

  METRICS_TOKEN: {
    ...env.secret({
      description:
        "Bearer token a Prometheus scraper sends to a subgraph run alone (`subgraph <name>`) for its `/metrics` (`Authorization: Bearer <token>`). Unset: the subgraph's `/metrics` refuses everyone (403). The gateway's `/metrics` takes a client with `metrics:read` instead; under `npm start` it has the whole process's.",
    }),
    schema: z
      .string()
      .trim()
      .regex(/^[\w.~+/-]{16,}=*$/),
    expected: 'at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (a bearer token)',
  },

  // ── events and webhooks (gateway) ─────────────────────────────────────────────
  EVENT_LOG: env.oneOf(['sqlite', 'redis'], {
    description:
      '`sqlite`: the embedded event log, one file under `DATA_DIR`, for one gateway instance; `redis`: Redis Streams at `REDIS_URL`, shared by every gateway instance.',
    default: 'sqlite',
  }),
  DATA_DIR: env.path({
    description: 'Directory of the embedded event log (`events.db`), created when missing.',
    default: '.data',
  }),
  EVENT_LOG_SYNC: env.oneOf(['full', 'normal'], {
    description:
      '`full`: an acknowledged webhook survives a power loss; `normal`: it survives a crash of the process but the last commits may be lost on power loss (faster).',
    default: 'full',
  }),
  EVENT_LOG_PREFIX: env.string({
    description: 'Key prefix of the Redis event log: gateway instances with the same prefix share one log.',
    default: 'marketing-graph:events',
  }),
  EVENTS_RETENTION_DAYS: env.int(1, 3650, {
    description: 'Days delivered events are kept for queries and `after` resumption.',
    default: '30',
  }),
  EVENTS_RETENTION_MAX: env.int(1000, 1_000_000_000, {
    description: 'Delivered events kept at most; the oldest beyond it are pruned.',
    default: '1000000',
  }),
  ROUTING_RULES_FILE: env.path({
    description: 'Routing rules (YAML or JSON): which channels each event goes to.',
    default: 'events/demo-routing.yaml',
  }),
  WEBHOOK_PUBLIC_URL: env.url({
    description:
      'Public origin the platforms call (`https://hooks.example.com`), when a proxy sits in front: some platforms sign the URL they called (see the README on pointing webhooks at the gateway). Unset: the URL a trusted proxy forwards (`TRUSTED_PROXIES`), else the address the gateway was reached on, never the `Host` header.',
  }),
  TRUSTED_PROXIES: env.addressList({
    description:
      'Proxies (IP addresses or CIDR ranges) whose `X-Forwarded-Proto` and `X-Forwarded-Host` give the URL a platform signed when `WEBHOOK_PUBLIC_URL` is unset; the headers of any other peer are ignored.',
  }),
  EVENT_PROCESSOR_CONCURRENCY: env.int(1, 256, {
    description:
      'Events each process running the background jobs (a gateway with `BACKGROUND_JOBS=gateway`, or a `worker`) processes (enriches, routes) at once.',
    default: '64',
  }),
  EVENT_PROCESSOR_VISIBILITY_MS: env.int(1000, 3_600_000, {
    description:
      'How long an event claimed by a processor stays with it: if that process dies (a SIGKILL, a lost machine), another takes the event over after this long. Keep it above the slowest processing of one event.',
    default: '30000',
  }),
  BACKGROUND_JOBS: env.oneOf(['gateway', 'worker'], {
    description:
      "`gateway`: the gateway runs the background jobs (event processing, the routing rules' actions, webhook deliveries, retention) itself, one process as `npm start` does; `worker`: the gateway only takes webhooks into the log, streams delivered events and serves the management API, and `worker` processes run the jobs. `worker` needs `EVENT_LOG=redis`.",
    default: 'gateway',
  }),

  // ── worker (`worker`) ───────────────────────────────────────────────────────────
  WORKER_PORT: env.port({
    description:
      'Port of a `worker` process: `/health` (each job and its state) and `/metrics` (with `METRICS_TOKEN`).',
    default: '4010',
  }),
  GATEWAY_URL: env.url({
    description:
      "Origin of a gateway a `worker` reads the graph through (routing rules' customer context), as the event processor, with a caller token signed with `GATEWAY_TOKEN_PRIVATE_JWK`; and the gateway the `endpoints` command calls (at `/graphql`).",
    default: 'http://127.0.0.1:4000',
  }),

  // ── webhooks out: deliveries to subscribers' endpoints (where the event pipeline runs) ──
  WEBHOOK_SECRET_SEALING_KEY: {
    ...env.secret({
      description:
        'Key (base64 of 32 random bytes: `openssl rand -base64 32`) that seals webhook endpoint secrets at rest (AES-256-GCM) in the delivery store. Required with `NODE_ENV=production`; unset elsewhere, secrets are stored unsealed and start-up warns.',
    }),
    // The shape only; deliveries/config.ts checks the same, for callers that skip the environment.
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9+/]{43}=$/),
    expected: 'the base64 of 32 random bytes (`openssl rand -base64 32`)',
  },
  WEBHOOK_ALLOW_HOSTS: env.string({
    description:
      'Comma-separated hosts, IP addresses or CIDR ranges webhook endpoints may reach although the SSRF guard refuses them otherwise (loopback, private ranges). Unset: loopback (`127.0.0.1/8`, `::1`, `localhost`) outside production, nothing in production.',
  }),
  WEBHOOK_ATTEMPT_TIMEOUT_MS: env.int(50, 300_000, {
    description:
      "One delivery attempt's whole time (connect, send, the response's headers and first 1 KB); no answer in time is a failure, retried.",
    default: '15000',
  }),
  WEBHOOK_CLAIM_LEASE_MS: env.int(1000, 3_600_000, {
    description:
      'With the Redis delivery store: how long a message a dispatcher claimed stays with it; if that process dies mid-delivery, another worker attempts the message after this long. Keep it above `WEBHOOK_ATTEMPT_TIMEOUT_MS`.',
    default: '120000',
  }),
  ACTIONS_VISIBILITY_MS: env.int(1000, 3_600_000, {
    description:
      "With the Redis action outbox: how long an action a `worker` claimed stays with it; if that worker dies during the platform call, another takes the action back after this long (sends it again when the kind is idempotent, else fails it `ACTION_OUTCOME_UNKNOWN`). Keep it above the slowest call (a call's budget is capped below it).",
    default: '120000',
  }),
  WEBHOOK_RETRY_SCHEDULE: env.string({
    description:
      "Delays before each delivery attempt, comma-separated, each a number with `ms`, `s`, `m`, `h` or `d` (`0,5s,5m,30m,2h,5h,10h,10h`, Svix's, when unset); a message is exhausted after the last.",
  }),

  // ── the `endpoints` command (a client of the gateway at GATEWAY_URL) ──────────
  MARKETING_GRAPH_API_KEY: env.secret({
    description:
      'API key (`mgk_...`) the `endpoints` command calls the gateway with: a client with `webhooks:admin` to manage endpoints, `webhooks:read` to list its own.',
  }),

  // ── caching (gateway and subgraphs) ───────────────────────────────────────────
  REDIS_URL: env.url({
    description:
      'Redis for the shared cache (and, where noted, shared state). Unset: each process caches in its own bounded memory.',
    protocols: ['redis', 'rediss'],
    secret: true,
  }),
  CACHE_MAX_ENTRIES: env.int(100, 10_000_000, {
    description: 'Entries the in-memory cache holds before evicting the least recently used.',
    default: '50000',
  }),
  CACHE_TTL_PROFILE_S: env.int(0, 86_400, {
    description:
      'Seconds a CRM customer record (profile) stays cached in the `crm` subgraph; 0 turns it off.',
    default: '300',
  }),
  CACHE_TTL_SUBSCRIPTION_S: env.int(0, 86_400, {
    description:
      'Seconds an email-list member (subscription, engagement) stays cached in the `email` subgraph.',
    default: '300',
  }),
  CACHE_TTL_ORDERS_S: env.int(0, 86_400, {
    description: 'Seconds shop customers and their orders stay cached in the `commerce` subgraph.',
    default: '120',
  }),
  CACHE_TTL_CAMPAIGN_REPORTS_S: env.int(0, 86_400, {
    description: 'Seconds campaign figures (ad insights, email reports, orders by range) stay cached.',
    default: '600',
  }),
  CACHE_TTL_ABSENT_S: env.int(0, 86_400, {
    description:
      "Seconds a known absence (the platform has no such contact, member, customer or order) stays cached; at most the record type's own TTL.",
    default: '60',
  }),
  RESPONSE_CACHE: env.boolean({
    description: 'Gateway whole-response cache driven by the `@cacheControl` hints of the subgraph schemas.',
    default: 'true',
  }),

  // ── subgraphs ──────────────────────────────────────────────────────────────
  ...perRole(subgraphPortVariable, (name) =>
    env.port({ description: `Port of the \`${name}\` subgraph.`, default: String(ROLE_DEFAULT_PORTS[name]) }),
  ),
  UPSTREAM_TIMEOUT_MS: env.int(100, 120_000, {
    description: 'Timeout of one HTTP call from a connector to its platform.',
    default: '10000',
  }),
  UPSTREAM_MAX_RETRIES: env.int(0, 10, {
    description: 'Retries of an idempotent upstream read after a 429, 5xx or timeout, within its deadline.',
    default: '3',
  }),

  // ── batch syncs ──────────────────────────────────────────────────────────────
  SYNCS_FILE: env.path({
    description:
      'Sync definitions (YAML or JSON): source query, mapping, rules, mode, destination and schedule of each batch sync. Defaults to the demo syncs.',
    default: 'syncs/demo.yaml',
  }),
  SYNC_GATEWAY_URL: env.url({
    description: 'The GraphQL endpoint sync sources are read from, through the gateway and its permissions.',
    default: 'http://127.0.0.1:4000/graphql',
  }),
  WORKER_SYNCS: env.oneOf(['off', 'on'], {
    description:
      "`on`: `worker` processes run SYNCS_FILE's schedules as BullMQ job schedulers on REDIS_URL, one run of a sync at a time across the workers, the state (fingerprints, runs, checkpoints) in Redis under EVENT_LOG_PREFIX; a killed worker's run is resumed by another. `off`: syncs run only where `npm start` runs them (SQLite, in-process scheduler).",
    default: 'off',
  }),
  SYNC_LOCK_MS: env.int(1000, 3_600_000, {
    description:
      "How long a worker's hold on a sync run lasts without renewal (`WORKER_SYNCS=on`): a killed worker's run is resumed by another after about this long.",
    default: '30000',
  }),
  SYNC_DRY_RUN_TIMEOUT_MS: env.int(1000, 600_000, {
    description:
      "How long a gateway's `runSync(dryRun: true)` waits for a worker's preview (`WORKER_SYNCS=on`), a run of the sync under way included; past it the mutation fails with reason `SYNC_DRY_RUN_TIMEOUT`.",
    default: '60000',
  }),
  SYNC_MIN_INTERVAL_MS: env.int(1000, 86_400_000, {
    description:
      'Shortest `every:` a sync may declare. A sync more often than once a minute would mostly queue behind itself; tests shorten it.',
    default: '60000',
  }),
  SYNC_API_KEY: env.secret({
    description:
      'API key the sync sources run with (a client with read scopes for the fields the syncs map). Outside production, defaults to the demo personalization-service key.',
  }),

  // ── sandboxes (the embedded demo) ──────────────────────────────────────────
  SANDBOX_SEED: env.int(0, 2 ** 31 - 1, {
    description: 'Seed of the generated data; the same seed gives the same customers, orders and campaigns.',
    default: '42',
  }),
  SANDBOX_CUSTOMERS: env.int(1, 100_000, { description: 'Number of generated customers.', default: '2000' }),
  SANDBOX_ANCHOR_DATE: env.date({
    description: 'Last day of the 90 days of generated activity (default: today, UTC).',
  }),
  SANDBOX_RATE_LIMITS: env.boolean({
    description: "Enforce each platform's documented rate limits in the sandboxes.",
    default: 'true',
  }),
  SANDBOX_WEBHOOKS_PER_MINUTE: env.int(0, 60_000, {
    description:
      'Signed webhooks the sandboxes send the embedded gateway per minute (orders, form fills, subscribes); 0 stops them.',
    default: '30',
  }),
  SANDBOX_WEBHOOK_TARGET: env.url({
    description:
      'Gateway origin a standalone sandbox sends the webhooks of `POST /__sandbox/webhooks` to, with the demo secrets; unset, those get 503.',
  }),
  SANDBOX_LATENCY_MS: env.int(0, 60_000, {
    description: 'Latency added to every sandbox response.',
    default: '0',
  }),
} as const;

export type CoreCatalogName = keyof typeof coreCatalog;
