import { GraphQLError } from 'graphql';
import { badUserInput, ErrorCode } from '../../lib/errors.js';
import type { DeliveredEvent } from '../../lib/events/event.js';
import { checkPageSize } from '../../lib/graphql/page-sizes.js';
import { DateTimeScalar, JsonScalar } from '../../lib/graphql/scalars.js';
import { integrations } from '../../monitoring/health-model.js';
import { activeHealthHistory } from '../../lib/health/history/keeper.js';
import type { Logger } from '../../lib/logger.js';
import type { EventConnectionModel, SyncRunModel } from './mappers.js';
import {
  WebhookAttempt,
  WebhookEndpoint,
  WebhookMessage,
  webhookMutationResolvers,
  webhookQueryResolvers,
} from './webhook-resolvers.js';
import type { SyncDirectory } from '../../syncs/directory.js';
import { SyncDryRunError } from '../../syncs/preview.js';
import type { EventSource, Resolvers, SyncChange, SyncMode } from './__generated__/resolvers-types.js';

/** The syncs this gateway shows (its own, or the workers'), or the error saying it has none. */
function syncsOf(syncs: SyncDirectory | undefined): SyncDirectory {
  if (!syncs)
    throw new GraphQLError('This gateway runs no batch syncs.', {
      extensions: { code: ErrorCode.BAD_REQUEST },
    });
  return syncs;
}

/** Rows of each change (and quarantined) a dry run shows. */
const PREVIEW_SAMPLES = 5;

/**
 * `runSync(dryRun: true)`: the run read and planned, nothing written or kept, answered once the
 * source is read. A source that fails is the caller's to know about, by code, without its details.
 */
async function dryRun(
  syncs: SyncDirectory,
  name: string,
  full: boolean,
  logger: Logger,
): Promise<SyncRunModel> {
  const startedAt = Date.now();
  const options = { full, sampleSize: PREVIEW_SAMPLES };
  const run = syncs.run?.bind(syncs);
  const preview = syncs.preview?.bind(syncs);
  let summary;
  try {
    // Here, or (WORKER_SYNCS=on) queued for a worker, whose preview this waits for.
    if (run) summary = await run(name, { trigger: 'graph', dryRun: true, ...options });
    else if (preview) summary = await preview(name, options);
    else throw new Error('a sync directory must run syncs or preview them');
  } catch (error) {
    const code =
      error instanceof Error && 'code' in error && typeof error.code === 'string'
        ? error.code
        : 'SYNC_DRY_RUN_FAILED';
    const reason = error instanceof SyncDryRunError ? (error.reason ?? code) : code;
    logger.warn(
      { sync: name, code, error: error instanceof Error ? error.message : 'error' },
      'sync dry run failed',
    );
    if (code === 'SYNC_DRY_RUN_TIMEOUT')
      throw new GraphQLError(
        `No sync worker finished the dry run of sync "${name}" in time (SYNC_DRY_RUN_TIMEOUT): are the workers running with WORKER_SYNCS=on, or is a long run of it under way?`,
        { extensions: { code: ErrorCode.UPSTREAM_TIMEOUT, reason: code } },
      );
    throw new GraphQLError(`The dry run of sync "${name}" could not read its source (${reason}).`, {
      extensions: { code: ErrorCode.UPSTREAM_ERROR, reason },
    });
  }
  return {
    ...summary.counts,
    id: 0,
    sync: name,
    status: 'DRY_RUN',
    trigger: 'graph',
    full,
    startedAt,
    finishedAt: startedAt + summary.durationMs,
    staged: true,
    checkpoint: 0,
    resumes: 0,
    error: undefined,
    preview: {
      calls: summary.lowerBound,
      samples: summary.samples,
      quarantined: summary.quarantinedSamples.map((row) => ({
        run: 0,
        key: row.key,
        status: 'QUARANTINED',
        code: row.code,
        reason: row.reason,
        record: undefined,
      })),
    },
  };
}

type Source = EventSource;

function servedByTheGateway(): never {
  throw new GraphQLError('Subscriptions are served by the gateway over graphql-ws or Server-Sent Events.', {
    extensions: { code: ErrorCode.BAD_REQUEST },
  });
}

const KINDS = {
  platform: 'PLATFORM',
  'webhook-source': 'WEBHOOK_SOURCE',
  endpoint: 'ENDPOINT',
  action: 'ACTION',
  sync: 'SYNC',
  client: 'CLIENT',
} as const;
const WINDOWS = { FIVE_MINUTES: '5m', ONE_HOUR: '1h', ONE_DAY: '24h' } as const;
const sourceOf = (source: DeliveredEvent['source']): Source => source.toUpperCase() as Source;

/** A cursor the log cannot read is the client's mistake, said as such. */
function asUserError(error: unknown): never {
  if (error instanceof RangeError)
    throw badUserInput(`\`after\` is not a cursor this API issued: ${error.message}`, 'after');
  throw error;
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JsonScalar,
  Query: {
    async events(_parent, args, context): Promise<EventConnectionModel> {
      checkPageSize('Query.events(first:)', args.first);
      const after = args.after ?? undefined;
      const rows = await context.log
        .read(after, args.first + 1, args.types ? { types: args.types } : undefined)
        .catch(asUserError);
      const page = rows.slice(0, args.first);
      return {
        edges: page.map((event) => ({ cursor: event.cursor, node: event })),
        pageInfo: { hasNextPage: rows.length > args.first, endCursor: page.at(-1)?.cursor ?? after ?? null },
      };
    },
    async deadLetters(_parent, args, context) {
      checkPageSize('Query.deadLetters(first:)', args.first);
      return context.log.deadLetters(args.first);
    },
    syncs: async (_parent, _args, context) => (await context.syncs?.list()) ?? [],
    async syncRuns(_parent, args, context) {
      checkPageSize('Query.syncRuns(first:)', args.first);
      const syncs = syncsOf(context.syncs);
      if (
        args.sync !== null &&
        args.sync !== undefined &&
        !syncs.definitions.some((d) => d.name === args.sync)
      )
        throw badUserInput(`no sync is named "${args.sync}"`, 'sync');
      return syncs.runs({
        ...(args.sync !== null && args.sync !== undefined ? { sync: args.sync } : {}),
        limit: args.first,
      });
    },
    async syncRunRows(_parent, args, context) {
      checkPageSize('Query.syncRunRows(first:)', args.first);
      const id = Number(args.runId);
      if (!Number.isSafeInteger(id) || id < 1) throw badUserInput('`runId` is not a run id', 'runId');
      return syncsOf(context.syncs).runRows(id, args.status ?? undefined, args.first);
    },
    integrations: () => integrations(),
    async integrationHistory(_parent, args) {
      if (!Number.isInteger(args.days) || args.days < 1 || args.days > 3650)
        throw badUserInput('`days` must be a whole number from 1 to 3650', 'days');
      const history = activeHealthHistory();
      // A process without a history (tests that turn it off) answers with an empty span.
      if (!history)
        return { days: args.days, from: null, to: null, hoursCovered: 0, retentionDays: 0, connections: [] };
      return history.read(args.days);
    },
    integration: (_parent, args) =>
      integrations().find((integration) => integration.name === args.name) ?? null,
    ...webhookQueryResolvers,
  },
  Mutation: {
    async replayDeadLetters(_parent, args, context) {
      return { replayed: await context.log.replay(args.ids ?? undefined) };
    },
    ...webhookMutationResolvers,
    async runSync(_parent, args, context) {
      const syncs = syncsOf(context.syncs);
      if (!syncs.definitions.some((d) => d.name === args.name))
        throw badUserInput(`no sync is named "${args.name}"`, 'name');
      if (args.dryRun) return dryRun(syncs, args.name, args.full, context.request.logger);
      const run = syncs.run?.bind(syncs);
      if (!run) {
        if (!syncs.enqueue) throw new Error('a sync directory must run syncs or queue them');
        // The workers run it (one run of a sync at a time across them: a run under way finishes first).
        try {
          return await syncs.enqueue(args.name, { full: args.full, trigger: 'graph' });
        } catch (error) {
          context.request.logger.warn(
            { sync: args.name, error: error instanceof Error ? error.message : 'error' },
            'sync run could not be queued',
          );
          throw new GraphQLError('The sync run could not be queued for the workers.', {
            extensions: { code: ErrorCode.UPSTREAM_ERROR },
          });
        }
      }
      if (await syncs.isRunning(args.name))
        throw new GraphQLError(`sync "${args.name}" is already running`, {
          extensions: { code: ErrorCode.BAD_REQUEST },
        });
      // Answers as the run starts; it goes on after this request (follow it with syncRuns).
      return new Promise((resolve, reject) => {
        run(args.name, { trigger: 'graph', full: args.full, onStart: resolve }).catch((error: unknown) => {
          context.request.logger.warn(
            { sync: args.name, error: error instanceof Error ? error.message : 'error' },
            'sync run failed to start',
          );
          reject(
            new GraphQLError('The sync run could not start.', {
              extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
            }),
          );
        });
      });
    },
  },
  Sync: {
    name: (listing) => listing.definition.name,
    description: (listing) => listing.definition.description,
    destination: (listing) => listing.definition.destination.type,
    mode: (listing) => listing.definition.mode.toUpperCase() as SyncMode,
    schedule: (listing) => listing.definition.schedule?.text ?? null,
    nextRunAt: (listing) =>
      listing.nextRunAt === undefined ? null : new Date(listing.nextRunAt).toISOString(),
    lastRun: (listing) => listing.lastRun ?? null,
  },
  SyncRun: {
    id: (run) => String(run.id),
    startedAt: (run) => new Date(run.startedAt).toISOString(),
    finishedAt: (run) => (run.finishedAt === undefined ? null : new Date(run.finishedAt).toISOString()),
    error: (run) => run.error ?? null,
    counts: (run) => run,
    preview: (run) => run.preview ?? null,
  },
  SyncRunSample: {
    change: (sample) => sample.change.toUpperCase() as SyncChange,
  },
  Subscription: {
    // The gateway serves subscriptions itself (graphql-ws and SSE); this subgraph only declares them.
    events: { subscribe: servedByTheGateway },
    integrationStatusChanged: { subscribe: servedByTheGateway },
  },
  MarketingEvent: {
    source: (event) => sourceOf(event.source),
    customer: (event) => (event.customer?.email ? { email: event.customer.email } : null),
    customerId: (event) => event.customer?.id ?? null,
    personalData: (event) => event.personal,
  },
  DeadLetter: {
    source: (letter) => sourceOf(letter.source),
  },
  Integration: {
    kind: (integration) => KINDS[integration.kind],
    freshness: (integration) => integration.freshnessSeconds,
    staleAfter: (integration) => integration.staleAfterSeconds,
    latency: (integration) => integration.latencyMs,
    window: (integration, args) => integration.windows[WINDOWS[args.span]],
    budget: (integration) => integration.budgetLeft,
    breakerOpen: (integration) => (integration.breaker === null ? null : integration.breaker === 'open'),
    disabled: (integration) =>
      integration.kind === 'endpoint' ? (integration.facts.disabled ?? false) : null,
  },
  IntegrationHistoryRow: {
    kind: (row) => KINDS[row.kind],
    throttledSeconds: (row) => row.figures.throttledMs / 1000,
  },
  HealthWindowFigures: {
    throttledSeconds: (figures) => figures.throttledMs / 1000,
    errorsByClass: (figures) =>
      Object.entries(figures.errorsByClass).map(([errorClass, count]) => ({ errorClass, count })),
    latency: (figures) => figures.latencyMs,
  },
  WebhookEndpoint,
  WebhookMessage,
  WebhookAttempt,
};
