import { z } from 'zod';

/**
 * What the quarterly review reads from a running gateway: the health model through GraphQL
 * (`integrations`, scope `monitoring:read`) and the platform calls by endpoint from `/metrics`
 * (`upstream_calls_total`, scope `metrics:read`; without it the review goes on without the
 * per-endpoint breakdown and says so). Every answer is checked with zod: a gateway of another
 * version is a clear error, not a broken report.
 */
const figures = z.object({
  calls: z.number(),
  errors: z.number(),
  exhausted: z.number(),
  successRate: z.number().nullable(),
  latency: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
  errorsByClass: z.array(z.object({ errorClass: z.string(), count: z.number() })),
});

export const reviewIntegrationSchema = z.object({
  name: z.string(),
  kind: z.string(),
  platform: z.string().nullable(),
  status: z.string(),
  freshness: z.number().nullable(),
  budget: z.number().nullable(),
  breakerOpen: z.boolean().nullable(),
  deliveriesExhausted: z.number().nullable(),
  disabled: z.boolean().nullable(),
  version: z
    .object({
      inUse: z.string().nullable(),
      latest: z.string().nullable(),
      supportedUntil: z.string().nullable(),
      warnings: z.array(z.string()),
    })
    .nullable(),
  lastError: z.object({ at: z.string(), code: z.string(), message: z.string() }).nullable(),
  day: figures,
  hour: figures,
});
/** A connection as the review judges it: `period` is its figures over the review's span (the history's, else the day's). */
export type ReviewIntegration = z.output<typeof reviewIntegrationSchema> & { period?: Figures };
export type Figures = z.output<typeof figures>;

const historySchema = z.object({
  days: z.number(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  hoursCovered: z.number(),
  retentionDays: z.number(),
  connections: z.array(
    z.object({
      name: z.string(),
      kind: z.string(),
      platform: z.string().nullable(),
      figures,
      throttledSeconds: z.number(),
      freshness: z
        .object({ samples: z.number(), meanSeconds: z.number(), maxSeconds: z.number() })
        .nullable(),
    }),
  ),
});
export type ReviewHistory = z.output<typeof historySchema>;

const FIGURES =
  'calls errors exhausted successRate latency { p50 p95 p99 } errorsByClass { errorClass count }';
export const REVIEW_QUERY = `query IntegrationReview($days: Int!) {
  history: integrationHistory(days: $days) {
    days from to hoursCovered retentionDays
    connections { name kind platform figures { ${FIGURES} } throttledSeconds freshness { samples meanSeconds maxSeconds } }
  }
  integrations {
    name kind platform status freshness budget breakerOpen deliveriesExhausted disabled
    version { inUse latest supportedUntil warnings }
    lastError { at code message }
    day: window(span: ONE_DAY) { ${FIGURES} }
    hour: window(span: ONE_HOUR) { ${FIGURES} }
  }
}`;

const answerSchema = z.object({
  data: z
    .object({ integrations: z.array(reviewIntegrationSchema), history: historySchema })
    .nullable()
    .optional(),
  errors: z
    .array(z.object({ message: z.string(), extensions: z.object({ code: z.string() }).loose().optional() }))
    .optional(),
});

/** Calls per platform and endpoint since the gateway started, from `upstream_calls_total`. */
/** `failed`: answers other than 2xx (a 404 for a member not in the audience counts: it is not an outage). */
export type EndpointCalls = Map<string, { endpoint: string; calls: number; failed: number }[]>;

export interface ReviewInput {
  integrations: ReviewIntegration[];
  /** Null when `/metrics` refused the key (it lacks `metrics:read`). */
  endpoints: EndpointCalls | null;
  /** The health history over the days asked (`integrationHistory`). */
  history: ReviewHistory;
  gateway: string;
  collectedAt: string;
}

/** The gateway's refusal or a broken answer, said with its code. */
export class ReviewSourceError extends Error {
  override name = 'GatewayRefusal';
}

function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** `upstream_calls_total{platform,endpoint,outcome}` lines, summed per platform and endpoint. */
export function endpointCallsFrom(metrics: string): EndpointCalls {
  const byPlatform: EndpointCalls = new Map();
  for (const line of metrics.split('\n')) {
    // Greedy to the last brace: endpoint labels carry braces of their own (`/lists/{listId}`).
    const match = /^upstream_calls_total\{(.*)\}\s+([0-9.e+]+)$/.exec(line);
    if (!match) continue;
    const labels = labelsOf(match[1]!);
    const platform = labels['platform'];
    const endpoint = labels['endpoint'];
    if (!platform || !endpoint) continue;
    const count = Number(match[2]);
    const list = byPlatform.get(platform) ?? [];
    let row = list.find((r) => r.endpoint === endpoint);
    if (!row) list.push((row = { endpoint, calls: 0, failed: 0 }));
    row.calls += count;
    const outcome = labels['status'] ?? '200';
    if (!/^2\d\d$/.test(outcome)) row.failed += count;
    byPlatform.set(platform, list);
  }
  for (const list of byPlatform.values()) list.sort((a, b) => b.calls - a.calls);
  return byPlatform;
}

export async function collectReview(options: {
  gatewayOrigin: string;
  apiKey: string;
  /** Days of history to read. @default 90 */
  days?: number;
  now?: Date;
}): Promise<ReviewInput> {
  const headers = { authorization: `Bearer ${options.apiKey}` };
  let response: Response;
  try {
    response = await fetch(`${options.gatewayOrigin}/graphql`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query: REVIEW_QUERY, variables: { days: options.days ?? 90 } }),
    });
  } catch (error) {
    throw new ReviewSourceError(
      `The gateway at ${options.gatewayOrigin} does not answer (${(error as Error).message}).`,
    );
  }
  const parsed = answerSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success)
    throw new ReviewSourceError(
      `The gateway's answer is not the health model this review reads: ${parsed.error.issues[0]?.message ?? 'unknown shape'}.`,
    );
  const refusal = parsed.data.errors?.[0];
  if (refusal || !parsed.data.data)
    throw new ReviewSourceError(
      `${refusal?.extensions?.code ?? `HTTP ${response.status}`}: ${refusal?.message ?? 'no data'}`,
    );
  const metrics = await fetch(`${options.gatewayOrigin}/metrics`, { headers }).catch(() => undefined);
  const endpoints = metrics?.ok ? endpointCallsFrom(await metrics.text()) : null;
  const history = parsed.data.data.history;
  const byName = new Map(history.connections.map((row) => [row.name, row]));
  return {
    // The span's figures where the history has the connection; the last day's where it has not.
    integrations: parsed.data.data.integrations.map((integration) => ({
      ...integration,
      period: byName.get(integration.name)?.figures ?? integration.day,
    })),
    history,
    endpoints,
    gateway: options.gatewayOrigin,
    collectedAt: (options.now ?? new Date()).toISOString(),
  };
}
