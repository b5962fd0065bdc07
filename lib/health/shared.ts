import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/shared-client.js';
import { exportConnections, setRemoteConnections, remoteSources, type SharedConnection } from './recorder.js';

/**
 * The health model across processes. A `worker` process runs deliveries, actions and syncs, so the
 * figures of those connections are recorded there; the gateway that serves `integrations`,
 * `/status` and the alerts would not see them. Each worker publishes its recorder's connections
 * to Redis every few seconds (`<prefix>:health:<process>`, expiring after three periods, so a
 * worker that died drops out), and each gateway reads them all on the same period and merges them
 * with its own (lib/health/recorder.ts): calls add up minute by minute.
 *
 * Why snapshots in Redis rather than per-call events in the event log: a delivery attempt or a
 * platform call is not a business event, and a busy worker makes thousands a minute; a snapshot
 * costs one SET per worker per period whatever the traffic.
 */

const count = z.number().int().min(0);
const CONNECTION_KINDS = ['platform', 'webhook-source', 'endpoint', 'action', 'sync', 'client'] as const;

export const sharedConnectionSchema = z.object({
  name: z.string().min(1).max(300),
  kind: z.enum(CONNECTION_KINDS),
  platform: z.string().min(1).max(100).optional(),
  buckets: z
    .array(
      z.object({
        minute: z.number().int(),
        calls: count,
        errors: count,
        exhausted: count,
        byClass: z.array(z.tuple([z.string().max(100), count])).max(50),
        latency: z.array(count.nullable()).max(20),
        throttledMs: z.number().min(0).optional(),
      }),
    )
    .max(24 * 60 + 1),
  lastSuccessAt: z.number().optional(),
  lastError: z.object({ at: z.number(), code: z.string(), message: z.string() }).optional(),
  budget: z.object({ free: z.number(), of: z.number().positive(), at: z.number() }).optional(),
  breaker: z.enum(['open', 'closed']).optional(),
  facts: z.object({
    lastRunFailed: z.boolean().optional(),
    rowsRejected: count.optional(),
    disabled: z.boolean().optional(),
  }),
  factsAt: z.number().optional(),
});

export const healthSnapshotSchema = z.object({
  version: z.literal(1),
  process: z.string().min(1).max(200),
  publishedAt: z.number(),
  connections: z.array(sharedConnectionSchema).max(10_000),
});
export type HealthSnapshot = z.infer<typeof healthSnapshotSchema>;

/** The Redis key of one process's snapshot. */
export const healthKey = (prefix: string, process: string) => `${prefix}:health:${process}`;
/**
 * The sorted set naming the processes that published (score: when their snapshot expires), so
 * readers find the snapshots without a SCAN: a SCAN walks the whole keyspace (a Redis shared with
 * the response cache and the webhooks' dedupe keys: 836,000 keys here once made each read 8,000
 * round trips, and a worker's figures never reached the gateway).
 */
export const healthIndexKey = (prefix: string) => `${prefix}:health-index`;

/** @default 5 s: `/status` and the alerts are at most this far behind a worker. */
export const DEFAULT_HEALTH_SHARE_MS = 5_000;

/** Publishes this process's connections every `intervalMs` (and once at once); `stop` deletes the snapshot. */
export function publishHealth(options: {
  redis: RedisClient;
  prefix: string;
  process: string;
  intervalMs?: number;
  logger: Logger;
}): { publish(): Promise<void>; stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? DEFAULT_HEALTH_SHARE_MS;
  const key = healthKey(options.prefix, options.process);
  let failing = false;
  const publish = async () => {
    const snapshot: HealthSnapshot = {
      version: 1,
      process: options.process,
      publishedAt: Date.now(),
      connections: exportConnections() as HealthSnapshot['connections'],
    };
    try {
      await options.redis
        .multi()
        .set(key, JSON.stringify(snapshot), { PX: intervalMs * 3 })
        .zAdd(healthIndexKey(options.prefix), { score: Date.now() + intervalMs * 3, value: options.process })
        .exec();
      if (failing) options.logger.info('publishing health figures again');
      failing = false;
    } catch (error) {
      // Figures are a view, not a ledger: the next period tries again; the data path goes on.
      if (!failing) options.logger.warn({ err: error }, 'publishing health figures failed; retrying');
      failing = true;
    }
  };
  void publish();
  const timer = setInterval(() => void publish(), intervalMs);
  timer.unref();
  return {
    publish,
    async stop() {
      clearInterval(timer);
      await options.redis
        .multi()
        .del(key)
        .zRem(healthIndexKey(options.prefix), options.process)
        .exec()
        .catch(() => undefined);
    },
  };
}

/**
 * Reads every other process's snapshot every `intervalMs` into the recorder, and forgets those
 * that expired. A snapshot that does not parse is skipped with a warning, never merged.
 */
export function followSharedHealth(options: {
  redis: RedisClient;
  prefix: string;
  /** This process's own name, if it publishes too: not merged twice. */
  self?: string;
  intervalMs?: number;
  logger: Logger;
}): { refresh(): Promise<void>; stop(): void } {
  const intervalMs = options.intervalMs ?? DEFAULT_HEALTH_SHARE_MS;
  const index = healthIndexKey(options.prefix);
  const warned = new Set<string>();
  const refresh = async () => {
    const now = Date.now();
    // Processes gone without a word (killed) leave their entry: dropped once their snapshot expired.
    const [, listed] = await options.redis
      .multi()
      .zRemRangeByScore(index, '-inf', now)
      .zRangeByScore(index, now, '+inf')
      .exec();
    const processes = z.array(z.string()).parse(listed);
    const keys = processes.map((process) => healthKey(options.prefix, process));
    const values = keys.length > 0 ? await options.redis.mGet(keys) : [];
    const seen = new Set<string>();
    values.forEach((value, i) => {
      if (value === null) return;
      let parsed: ReturnType<typeof healthSnapshotSchema.safeParse>;
      try {
        parsed = healthSnapshotSchema.safeParse(JSON.parse(value));
      } catch {
        parsed = healthSnapshotSchema.safeParse(undefined);
      }
      if (!parsed.success) {
        if (!warned.has(keys[i]!))
          options.logger.warn({ key: keys[i] }, 'skipping a health snapshot that does not parse');
        warned.add(keys[i]!);
        return;
      }
      if (parsed.data.process === options.self) return;
      seen.add(parsed.data.process);
      setRemoteConnections(parsed.data.process, parsed.data.connections as SharedConnection[]);
    });
    for (const source of remoteSources()) if (!seen.has(source)) setRemoteConnections(source, undefined);
  };
  const tick = () =>
    refresh().catch((error: unknown) =>
      options.logger.warn({ err: error }, 'reading other processes’ health figures failed; retrying'),
    );
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
