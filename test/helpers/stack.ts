import {
  DEMO_CLIENTS_FILE,
  FREE_PORTS,
  startStack,
  type Stack,
  type StackAlertOptions,
  type StackEventOptions,
} from '../../cli/stack.js';
import type { StackSyncOptions } from '../../cli/stack-syncs.js';
import type { RequestDeadline } from '../../gateway/config.js';
import type { SubscriptionCaps } from '../../gateway/pipeline/subscription-slots.js';
import { BENCH_WEBHOOK_SECRETS } from '../../bench/gateway-process.js';
import type { BreakerSettings } from '../../lib/upstream/breaker.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { TEST_ANCHOR_DATE } from './sandbox.js';

export interface TestStackOptions {
  customers?: number;
  rateLimits?: boolean;
  sandboxLatencyMs?: number;
  /** Receives every log line of every part (for secret-leak and request-id checks). */
  logSink?: { write(line: string): void };
  logLevel?: 'info' | 'debug' | 'silent';
  /** Share caches through this Redis (tests give each run its own namespace). */
  redisUrl?: string | undefined;
  cacheNamespace?: string;
  /** @default true */
  responseCache?: boolean;
  /** Record cache TTLs in seconds. @default 300 for every type */
  ttlSeconds?: number;
  /** @default 5000 */
  upstreamTimeoutMs?: number;
  /** @default 3 */
  upstreamMaxRetries?: number;
  /** Every connector's circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** The gateway's request deadlines. @default the catalog's (15 s, at most 30 s) */
  requestDeadline?: RequestDeadline;
  /** @default the demo registry */
  clientsFile?: string;
  authorizationMode?: 'filter' | 'strict';
  subscriptionCaps?: SubscriptionCaps;
  /** The usage anomaly detector's window and thresholds. @default 1 min, ×5, 30 */
  anomalies?: { windowMs?: number; factor?: number; minimum?: number };
  /** Verify OAuth access tokens from this issuer. */
  accessTokens?: { issuer: string; audience: string; jwksUrl: string };
  mode?: 'development' | 'production' | 'test';
  /** The event pipeline. @default an in-memory SQLite log, no demo webhooks */
  events?: Partial<StackEventOptions>;
  /** Batch syncs run in the stack. @default none */
  syncs?: StackSyncOptions;
  /** Alert rules over the health model. @default none */
  alerts?: StackAlertOptions;
}

/** The whole graph in process on free ports: sandboxes, subgraphs and gateway, talking HTTP. */
export function startTestStack(options: TestStackOptions = {}): Promise<Stack> {
  const loggers = new Map<string, Logger>();
  return startStack({
    host: '127.0.0.1',
    ports: FREE_PORTS,
    world: { seed: 11, customers: options.customers ?? 400, anchorDate: TEST_ANCHOR_DATE },
    rateLimits: options.rateLimits ?? true,
    sandboxLatencyMs: options.sandboxLatencyMs ?? 0,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 5_000,
    upstreamMaxRetries: options.upstreamMaxRetries ?? 3,
    subgraphTimeoutMs: 15_000,
    ...(options.breaker ? { breaker: options.breaker } : {}),
    ...(options.requestDeadline ? { requestDeadline: options.requestDeadline } : {}),
    supergraphFile: 'schema/supergraph.graphql',
    mode: options.mode ?? 'test',
    access: {
      auth: {
        mode: options.mode ?? 'test',
        clientsFile: options.clientsFile ?? DEMO_CLIENTS_FILE,
        ...(options.accessTokens
          ? {
              accessTokens: {
                ...options.accessTokens,
                algorithms: ['RS256', 'ES256'],
                clockToleranceSeconds: 5,
              },
            }
          : {}),
      },
      ...(options.authorizationMode ? { authorizationMode: options.authorizationMode } : {}),
      ...(options.subscriptionCaps ? { subscriptionCaps: options.subscriptionCaps } : {}),
      ...(options.anomalies ? { anomalies: options.anomalies } : {}),
    },
    cache: {
      redisUrl: options.redisUrl,
      maxEntries: 50_000,
      namespace: options.cacheNamespace ?? `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      ttls: {
        profile: options.ttlSeconds ?? 300,
        subscription: options.ttlSeconds ?? 300,
        orders: options.ttlSeconds ?? 300,
        campaignReports: options.ttlSeconds ?? 300,
      },
    },
    responseCache: options.responseCache ?? true,
    ...(options.alerts ? { alerts: options.alerts } : {}),
    events: {
      log: { kind: 'sqlite', file: ':memory:' },
      webhooksPerMinute: 0,
      // Quick retries, so a test sees a dead letter in seconds rather than minutes.
      processor: { retryBaseMs: 50, maxAttempts: 3 },
      // Production refuses the published demo secrets; a production stack verifies fresh ones.
      ...(options.mode === 'production'
        ? {
            webhooks: {
              hubspot: { secrets: [BENCH_WEBHOOK_SECRETS.hubspot] },
              shopify: [BENCH_WEBHOOK_SECRETS.shopify],
              mailchimp: [BENCH_WEBHOOK_SECRETS.mailchimp],
              site: [BENCH_WEBHOOK_SECRETS.site],
              twilio: [BENCH_WEBHOOK_SECRETS.twilio],
            },
          }
        : {}),
      ...options.events,
    },
    ...(options.syncs ? { syncs: options.syncs } : {}),
    logger: (part) => {
      let logger = loggers.get(part);
      if (!logger) {
        logger = createLogger({
          name: part,
          level: options.logLevel ?? (options.logSink ? 'debug' : 'silent'),
          ...(options.logSink ? { destination: options.logSink } : {}),
        });
        loggers.set(part, logger);
      }
      return logger;
    },
  });
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: T | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

/** POSTs an operation to the gateway the way a client would. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: GraphQLResponse<T>['body'];
  try {
    body = JSON.parse(text) as GraphQLResponse<T>['body'];
  } catch {
    throw new Error(
      `gateway answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  return { status: response.status, headers: response.headers, body };
}
