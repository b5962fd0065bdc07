import type { JWK } from 'jose';
import type { AuthConfig } from '../gateway/auth/config.js';
import type { RequestDeadline } from '../gateway/config.js';
import type { AccessConfig } from '../gateway/access.js';
import type { SubscriptionCaps } from '../gateway/pipeline/subscription-slots.js';
import { generateGatewayKeys } from '../lib/auth/gateway-token.js';
import { openCacheStore, type CacheSettings } from '../lib/cache/config.js';
import {
  PLATFORM_SUBGRAPHS,
  subgraphPortVariable,
  type PlatformSubgraphName,
} from '../lib/graphql/subgraph-names.js';
import { catalog } from '../platforms/catalog.js';
import type { BreakerSettings } from '../lib/upstream/breaker.js';
import type { Logger } from '../lib/logger.js';
import { listen, type Listening } from '../lib/server/listen.js';
import type { HttpServerLimits } from '../lib/server/limits.js';
import { buildGateway, type Gateway } from '../gateway/server.js';
import type { SandboxServer } from '../sandboxes/kit/server.js';
import { buildSandbox } from '../sandboxes/registry.js';
import type { WebhookSource } from '../platforms/kit/descriptor.js';
import {
  PLATFORM_NAMES,
  PLATFORMS,
  sandboxConnections,
  WEBHOOK_SOURCES,
  type PlatformName,
  type PlatformPlans,
} from '../platforms/registry.js';
import { generateWorld, type World, type WorldOptions } from '../sandboxes/world/world.js';
import { loadRoleSubgraphs } from '../subgraphs/registry.js';
import type { EventsConfig } from '../events/runtime.js';
import type { WebhookSecrets } from '../platforms/registry.js';
import { loadRoutingRules, type RoutingRule } from '../events/routing.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import { openConfiguredEventLog } from './event-log.js';
import { openDeliveriesFor } from './deliveries-store.js';
import type { DeliveriesConfigInput } from '../deliveries/config.js';
import { LOOPBACK_ALLOW_LIST } from '../events/deliveries-config.js';
import { openActions } from './actions.js';
import type { EventLog } from '../lib/events/log/types.js';
import { lazyEventsSubgraphFor } from './events-subgraph.js';
import { stackSyncs, type StackSyncOptions } from './stack-syncs.js';
import type { SyncService } from '../syncs/service.js';
import type { AlertsFile } from '../monitoring/alerts/rules.js';
import { startAlertMonitor, type AlertMonitor } from '../monitoring/monitor.js';
import { DEFAULT_HEALTH_SHARE_MS } from '../lib/health/shared.js';
import { shareHealth } from './shared-health.js';
import { openHealthHistory } from './health-history.js';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../lib/health/history/store.js';
import {
  createWebhookEmitter,
  DEMO_WEBHOOK_SECRETS,
  sandboxEventRoute,
  webhookEmitterRoutes,
  type WebhookEmitter,
} from '../sandboxes/webhooks/index.js';

export type StackPorts = Record<'gateway' | PlatformSubgraphName | PlatformName, number>;

export interface StackOptions {
  host: string;
  /** 0 picks a free port (tests). */
  ports: StackPorts;
  world: WorldOptions;
  rateLimits: boolean;
  sandboxLatencyMs: number;
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  subgraphTimeoutMs: number;
  supergraphFile: string;
  mode: 'development' | 'production' | 'test';
  /** One cache store for every part of the process: record caches and the response cache. */
  cache: CacheSettings;
  responseCache: boolean;
  /** Request timeouts and connection cap of every server of the stack. @default the catalog's defaults */
  http?: HttpServerLimits;
  /** Platform plans for both the sandboxes and the connectors. @default each platform's entry plan */
  plans?: PlatformPlans;
  /** Time budget of one request inside each subgraph. @default 20000 */
  subgraphRequestBudgetMs?: number;
  /** The gateway's request deadlines. @default REQUEST_DEADLINE_MS and REQUEST_DEADLINE_MAX_MS's defaults */
  requestDeadline?: RequestDeadline;
  /** Tunes every connector's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** Who may call the gateway. @default the demo registry, no access tokens, filter mode */
  access?: {
    auth?: AuthConfig;
    authorizationMode?: 'filter' | 'strict';
    fieldPermissions?: boolean;
    /** @default 20 per connection, 100 per client */
    subscriptionCaps?: SubscriptionCaps;
    /** The usage anomaly detector's window and thresholds. @default 1 min, ×5, 30 */
    anomalies?: AccessConfig['anomalies'];
  };
  /** The event pipeline of the gateway. */
  events: StackEventOptions;
  /** Alert rules over the health model. @default none evaluated */
  alerts?: StackAlertOptions;
  /** One logger per part, so a test can capture every line the stack writes. */
  logger: (part: string) => Logger;
  /** Batch syncs run in this process (served by the events subgraph). @default none */
  syncs?: StackSyncOptions;
}

export interface StackAlertOptions {
  rules: AlertsFile;
  /** @default 15000 */
  intervalMs?: number;
  /** @default the gateway's `/status` */
  statusUrl?: string;
  /** Where the channels' secrets are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Delays between a failed notice's attempts. */
  retryMs?: readonly number[];
}

export interface StackEventOptions {
  log: EventLogSettings;
  /** Signed webhooks the sandboxes send the gateway per minute; 0 sends none. */
  webhooksPerMinute: number;
  /** @default the demo rules, events/demo-routing.yaml */
  routingRules?: readonly RoutingRule[];
  /** The public origin platforms call, when a proxy is in front (HubSpot signs it). */
  publicUrl?: string;
  /** Proxies whose forwarded host and scheme count for that URI (`TRUSTED_PROXIES`). */
  trustedProxies?: readonly string[];
  /** @default the demo webhook secrets, which the demo emitter signs with */
  webhooks?: WebhookSecrets;
  /** @default 30 days, 1,000,000 events */
  retention?: EventsConfig['retention'];
  processor?: EventsConfig['processor'];
  /** Webhooks out. @default http:// and loopback endpoints allowed outside production, Svix's schedule */
  webhookDeliveries?: DeliveriesConfigInput;
  /**
   * Run the routing rules' actions against the sandboxes, from an outbox next to the event log
   * (its SQLite file, or the same Redis). @default true
   */
  actions?: boolean;
  /** Where processing runs: here, or in `worker` processes sharing a Redis log. @default 'gateway' */
  backgroundJobs?: EventsConfig['backgroundJobs'];
  /**
   * With the Redis log: how often the gateway reads `worker` processes' health figures
   * (HEALTH_SHARE_INTERVAL_MS). @default 5000
   */
  healthShareIntervalMs?: number;
  /**
   * The health history beside the event log (HEALTH_HISTORY_RETENTION_DAYS), for `review` over a
   * quarter and figures that survive a restart; `false`: none. @default 100 days, flushed every 30 s
   */
  history?: { retentionDays?: number; flushMs?: number } | false;
}

/** The demo emitter's secrets as the gateway verifies them. Demo credentials: see DEMO_WEBHOOK_SECRETS. */
export const DEMO_WEBHOOK_VERIFICATION: WebhookSecrets = Object.fromEntries(
  (WEBHOOK_SOURCES as readonly WebhookSource[]).map((source) => [source.name, source.demo]),
);

export const DEMO_ROUTING_RULES_FILE = 'events/demo-routing.yaml';

export interface Stack {
  world: World;
  gatewayUrl: string;
  origins: Record<'gateway' | PlatformSubgraphName | PlatformName, string>;
  sandboxes: Record<PlatformName, SandboxServer>;
  /** The key the gateway signs caller tokens with, for a second gateway in front of the same subgraphs. */
  gatewayTokenKey: JWK;
  gateway: Gateway;
  eventLog: EventLog;
  /** The sandboxes' live webhooks (started when `webhooksPerMinute` > 0). */
  webhooks: WebhookEmitter;
  /** The batch syncs, when the stack runs them. */
  syncs: SyncService | undefined;
  /** The alert monitor, when rules were given. */
  alerts: AlertMonitor | undefined;
  close(): Promise<void>;
}

/** The embedded demo's client registry: three clearly labelled demo clients. */
export const DEMO_CLIENTS_FILE = 'gateway/auth/demo-clients.json';

/** Ports of the embedded demo, matching the defaults in the configuration catalog. */
export const DEFAULT_PORTS: StackPorts = {
  gateway: Number(catalog.PORT.default),
  ...(Object.fromEntries(
    PLATFORM_SUBGRAPHS.map((name) => [name, Number(catalog[subgraphPortVariable(name)].default)]),
  ) as Record<PlatformSubgraphName, number>),
  ...(Object.fromEntries(
    PLATFORMS.map((platform) => [
      platform.name,
      Number(platform.config[platform.sandbox.portVariable]?.default),
    ]),
  ) as Record<PlatformName, number>),
};

/** Every part on a free port: tests and benchmarks, side by side with anything else running. */
// Same keys as DEFAULT_PORTS by construction; fromEntries cannot say so in its type.
export const FREE_PORTS = Object.fromEntries(
  Object.keys(DEFAULT_PORTS).map((part) => [part, 0]),
) as StackPorts;

/**
 * Where a local sender reaches a listener: its own address, or loopback when it listens on every
 * interface. The gateway checks HubSpot's signature against the address it was reached on, so the
 * emitter must call (and sign) an address the gateway sees, not `0.0.0.0`.
 */
function reachableOrigin(listening: Listening): string {
  const url = new URL(listening.origin);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  else if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

/**
 * The routing rules' actions against the stack's sandboxes (cli/actions.ts, as `gateway` and
 * `worker` open them), each platform connected to its sandbox with the plan it was given.
 */
async function openStackActions(options: StackOptions, origins: Partial<Record<PlatformName, string>>) {
  // With BACKGROUND_JOBS=worker the `worker` processes run the actions, with their own connections.
  if (options.events.actions === false || options.events.backgroundJobs === 'worker') return undefined;
  return openActions({
    log: options.events.log,
    connections: sandboxConnections(origins, options.plans),
    timeoutMs: options.upstreamTimeoutMs,
    maxRetries: options.upstreamMaxRetries,
    logger: options.logger('actions'),
  });
}

/**
 * The embedded default: four platform sandboxes, four subgraphs wired to them with the demo
 * credentials, and the gateway wired to the subgraphs, each on its own HTTP port in one process.
 * Parts talk over HTTP exactly as they would across machines.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const opened: Listening[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const store = openCacheStore(options.cache, options.logger('cache'));
  // A fresh key pair per process: the gateway signs caller tokens, the subgraphs check them.
  const gatewayKeys = await generateGatewayKeys();
  const close = async () => {
    for (const l of opened.reverse()) await l.close();
    for (const stop of stoppers.reverse()) await stop();
    await store.close();
  };
  try {
    const world = generateWorld(options.world);
    // Made before the sandboxes, which serve its `/__sandbox/webhooks`; it learns the gateway's
    // origin once the gateway listens.
    const webhooks = createWebhookEmitter({
      world,
      secrets: DEMO_WEBHOOK_SECRETS,
      perMinute: Math.max(1, options.events.webhooksPerMinute),
      logger: options.logger('sandbox:webhooks'),
    });
    const sandboxes = {} as Record<PlatformName, SandboxServer>;
    const origins = {} as Record<'gateway' | PlatformSubgraphName | PlatformName, string>;
    for (const platform of PLATFORM_NAMES) {
      const sandbox = await buildSandbox(platform, {
        world,
        logger: options.logger(`sandbox:${platform}`),
        rateLimits: options.rateLimits,
        latencyMs: options.sandboxLatencyMs,
        ...(options.plans ? { plans: options.plans } : {}),
        adminRoutes: [...webhookEmitterRoutes(webhooks), sandboxEventRoute(platform, world, webhooks)],
      });
      sandboxes[platform] = sandbox;
      const listening = await listen(sandbox.server, options.ports[platform], options.host, options.http);
      opened.push(listening);
      origins[platform] = listening.origin;
    }
    const upstream = {
      upstreamTimeoutMs: options.upstreamTimeoutMs,
      upstreamMaxRetries: options.upstreamMaxRetries,
      cache: { store, ttls: options.cache.ttls },
      auth: {
        jwks: gatewayKeys.publicJwks,
        ...(options.access?.fieldPermissions === false ? { fieldPermissions: false } : {}),
      },
      ...(options.subgraphRequestBudgetMs !== undefined
        ? { requestBudgetMs: options.subgraphRequestBudgetMs }
        : {}),
      ...(options.breaker ? { breaker: options.breaker } : {}),
    };
    const eventLog = await openConfiguredEventLog(options.events.log, options.logger('event-log'));
    stoppers.push(() => eventLog.close());
    // Before any traffic: the last run's figures are put back first. Stopped late (stoppers run in
    // reverse), so its last flush has the gateway's last calls.
    const history =
      options.events.history === false
        ? undefined
        : await openHealthHistory({
            role: 'gateway',
            port: options.ports.gateway,
            settings: options.events.log,
            retentionDays: options.events.history?.retentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
            ...(options.events.history?.flushMs ? { flushMs: options.events.history.flushMs } : {}),
            logger: options.logger('health-history'),
          });
    if (history) stoppers.push(() => history.stop());
    const deliveries = await openDeliveriesFor(
      options.events.log,
      options.events.webhookDeliveries ?? {
        allowHttp: options.mode !== 'production',
        allow: options.mode === 'production' ? [] : [...LOOPBACK_ALLOW_LIST],
      },
      options.logger('deliveries'),
    );
    if (deliveries) stoppers.push(() => deliveries.close());
    const syncs = options.syncs
      ? stackSyncs(options.syncs, origins, eventLog, options.logger('syncs'))
      : undefined;
    if (syncs) stoppers.push(() => syncs.stop());
    const actions = await openStackActions(options, origins);
    if (actions) stoppers.push(actions.close);
    const eventsSubgraph = lazyEventsSubgraphFor(
      eventLog,
      gatewayKeys.privateJwk,
      options.logger('subgraph:events'),
      deliveries ? { service: deliveries.management, supergraphFile: options.supergraphFile } : undefined,
      syncs?.service,
    );
    stoppers.push(() => eventsSubgraph.stop());
    // Each role subgraph against its platform's sandbox, with the plan that sandbox was given.
    for (const role of await loadRoleSubgraphs()) {
      const name = role.name;
      const subgraph = await role.forSandbox(
        upstream,
        origins[role.platform],
        options.plans ?? {},
        options.logger(`subgraph:${name}`),
      );
      stoppers.push(() => subgraph.stop());
      const listening = await listen(subgraph.server, options.ports[name], options.host, options.http);
      opened.push(listening);
      origins[name] = listening.origin;
    }
    const gateway: Gateway = await buildGateway(
      {
        supergraphFile: options.supergraphFile,
        subgraphTimeoutMs: options.subgraphTimeoutMs,
        ...(options.requestDeadline ? { requestDeadline: options.requestDeadline } : {}),
        mode: options.mode,
        cacheStore: store,
        responseCache: options.responseCache,
        auth: options.access?.auth ?? { mode: options.mode, clientsFile: DEMO_CLIENTS_FILE },
        ...(options.access?.authorizationMode ? { authorizationMode: options.access.authorizationMode } : {}),
        ...(options.access?.fieldPermissions === false ? { fieldPermissions: false } : {}),
        ...(options.access?.subscriptionCaps ? { subscriptionCaps: options.access.subscriptionCaps } : {}),
        ...(options.access?.anomalies ? { anomalies: options.access.anomalies } : {}),
        gatewayTokenKey: gatewayKeys.privateJwk,
        subgraphUrls: Object.fromEntries(
          PLATFORM_SUBGRAPHS.map((name) => [name, `${origins[name]}/graphql`]),
        ) as Record<PlatformSubgraphName, string>,
        events: {
          log: eventLog,
          subgraph: eventsSubgraph,
          webhooks: options.events.webhooks ?? DEMO_WEBHOOK_VERIFICATION,
          routingRules: options.events.routingRules ?? loadRoutingRules(DEMO_ROUTING_RULES_FILE),
          ...(options.events.publicUrl ? { publicUrl: options.events.publicUrl } : {}),
          ...(options.events.trustedProxies ? { trustedProxies: options.events.trustedProxies } : {}),
          retention: options.events.retention ?? { maxAgeMs: 30 * 86_400_000, maxEvents: 1_000_000 },
          ...(options.events.processor ? { processor: options.events.processor } : {}),
          ...(deliveries ? { deliveries: { store: deliveries.store, config: deliveries.config } } : {}),
          ...(actions ? { actions: actions.config } : {}),
          ...(options.events.backgroundJobs ? { backgroundJobs: options.events.backgroundJobs } : {}),
        },
      },
      options.logger('gateway'),
    );
    stoppers.push(() => gateway.stop());
    const listening = await listen(gateway.server, options.ports.gateway, options.host, options.http);
    opened.push(listening);
    // Runs before the listener closes (in reverse order): WebSockets would otherwise hold it open.
    opened.push({ origin: '', port: 0, close: () => gateway.drain() });
    origins.gateway = listening.origin;
    webhooks.setTarget(reachableOrigin(listening));
    syncs?.start(`${reachableOrigin(listening)}/graphql`);
    // Stopped before the gateway closes, so no delivery is cut off half-way.
    opened.push({ origin: '', port: 0, close: () => webhooks.stop() });
    // Workers' deliveries, actions and syncs, in `integrations`, `/status` and the alerts.
    const workersHealth = await shareHealth(
      'follow',
      options.events.log,
      options.events.healthShareIntervalMs ?? DEFAULT_HEALTH_SHARE_MS,
      options.logger('shared-health'),
    );
    if (workersHealth) opened.push({ origin: '', port: 0, close: () => workersHealth.stop() });
    const alerts = options.alerts
      ? startAlertMonitor({
          rules: options.alerts.rules,
          statusUrl: options.alerts.statusUrl ?? `${listening.origin}/status`,
          env: options.alerts.env ?? process.env,
          ...(options.alerts.intervalMs ? { intervalMs: options.alerts.intervalMs } : {}),
          ...(options.alerts.retryMs ? { retryMs: options.alerts.retryMs } : {}),
          events: (events) => gateway.events.emit(events),
          clients: () => gateway.clientUsage(),
          logger: options.logger('alerts'),
        })
      : undefined;
    if (alerts) opened.push({ origin: '', port: 0, close: () => Promise.resolve(alerts.stop()) });
    // It signs with the public demo secrets, which a production gateway refuses: no fake traffic there.
    if (options.events.webhooksPerMinute > 0 && options.mode !== 'production') webhooks.start();
    else if (options.events.webhooksPerMinute > 0)
      options
        .logger('sandbox:webhooks')
        .info('demo webhooks not sent: they are signed with the demo secrets, which production refuses');
    return {
      world,
      gatewayUrl: `${listening.origin}/graphql`,
      origins,
      sandboxes,
      gatewayTokenKey: gatewayKeys.privateJwk,
      gateway,
      eventLog,
      webhooks,
      syncs: syncs?.service,
      alerts,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
