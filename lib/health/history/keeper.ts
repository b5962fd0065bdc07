import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { exportConnections, figuresOf, restoreConnections, type WindowFigures } from '../recorder.js';
import {
  addRollup,
  baselineOf,
  HOUR_MS,
  rollupsOf,
  type HourlyRollup,
  type MinuteBaseline,
} from './rollup.js';
import type { HealthHistoryStore } from './store.js';

/** One connection over the span read: the review's figures. */
export interface ConnectionHistory {
  name: string;
  kind: HourlyRollup['kind'];
  platform: string | null;
  figures: WindowFigures;
  /** Freshness samples over the span: mean and worst seconds since the last success. */
  freshness: { samples: number; meanSeconds: number; maxSeconds: number } | null;
}

export interface HealthHistorySpan {
  /** Days asked for. */
  days: number;
  /** The first and last hour with figures (ISO), null when the history holds none in the span. */
  from: string | null;
  to: string | null;
  /** Hours with at least one rollup: the span actually covered. */
  hoursCovered: number;
  retentionDays: number;
  connections: ConnectionHistory[];
}

export interface HealthHistory {
  /** Writes this run's rollups and recent minutes now (the timer does it every `flushMs`). */
  flush(): Promise<void>;
  /** Every process's hourly figures over the last `days`, merged per connection. */
  read(days: number, nowMs?: number): Promise<HealthHistorySpan>;
  /** True the first time the client is denied `item` (a field or scope), ever. */
  firstDenial(client: string, item: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** @default 30 s: at most this much of a process's figures is lost to a crash. */
export const DEFAULT_HISTORY_FLUSH_MS = 30_000;

let active: HealthHistory | undefined;
/**
 * The process's history, for the `integrationHistory` field and the first-denial alert: one per
 * process, like the recorder it rolls up.
 */
export const activeHealthHistory = (): HealthHistory | undefined => active;

/**
 * Keeps the health model's figures beyond the recorder's 24 hours and across restarts. At start it
 * puts back `owner`'s recent minutes (so `integrations` windows survive a restart); then every
 * `flushMs` it rewrites this run's hourly rollups of its own connections (not other processes':
 * each writes its own) and saves its recent minutes; rollups older than the retention are pruned.
 */
export async function startHealthHistory(options: {
  store: HealthHistoryStore;
  /** A name that survives the process's restarts: `gateway`, `worker-<host>-<port>`. */
  owner: string;
  retentionDays: number;
  flushMs?: number;
  logger: Logger;
}): Promise<HealthHistory> {
  const { store, logger } = options;
  // Unique per run: two runs (or two processes) never overwrite each other's rollups.
  const run = `${options.owner}/${randomUUID()}`;
  let baseline: MinuteBaseline = new Map();
  try {
    const saved = await store.loadRecent(options.owner);
    if (saved) {
      // Only the last 24 hours: the recorder keeps no more, and older minutes are in the rollups.
      const since = Math.floor(Date.now() / 60_000) - 24 * 60;
      const connections = saved.connections.map((c) => ({
        ...c,
        buckets: c.buckets.filter((b) => b.minute > since),
      }));
      restoreConnections(connections);
      baseline = baselineOf(connections);
      logger.info({ owner: options.owner, connections: connections.length }, 'health figures restored');
    }
  } catch (error) {
    logger.warn({ err: error }, 'restoring health figures failed; starting from none');
  }
  const freshness = new Map<string, HourlyRollup['freshness']>();
  let written = new Map<string, string>();
  let failing = false;
  const prune = () =>
    store.prune(Math.floor(Date.now() / HOUR_MS) - options.retentionDays * 24).catch(() => undefined);
  const flush = async () => {
    const now = Date.now();
    const own = exportConnections();
    const hour = Math.floor(now / HOUR_MS);
    for (const connection of own) {
      if (connection.lastSuccessAt === undefined) continue;
      const key = `${connection.name}\n${hour}`;
      const seconds = Math.max(0, (now - connection.lastSuccessAt) / 1000);
      const samples = freshness.get(key) ?? { samples: 0, sumSeconds: 0, maxSeconds: 0 };
      freshness.set(key, {
        samples: samples.samples + 1,
        sumSeconds: samples.sumSeconds + seconds,
        maxSeconds: Math.max(samples.maxSeconds, seconds),
      });
    }
    // Samples of hours the recorder no longer holds were written for good.
    for (const key of freshness.keys()) if (Number(key.split('\n')[1]) < hour - 25) freshness.delete(key);
    const rollups = rollupsOf(own, baseline, freshness);
    const next = new Map(rollups.map((r) => [`${r.connection}\n${r.hour}`, JSON.stringify(r)]));
    const changed = rollups.filter(
      (r) => written.get(`${r.connection}\n${r.hour}`) !== next.get(`${r.connection}\n${r.hour}`),
    );
    try {
      await store.writeRollups(run, changed);
      await store.saveRecent(options.owner, own, now);
      written = next;
      if (failing) logger.info('writing health history again');
      failing = false;
    } catch (error) {
      // Figures are a view: the next flush writes the whole hours again.
      if (!failing) logger.warn({ err: error }, 'writing health history failed; retrying');
      failing = true;
    }
  };
  await prune();
  const timer = setInterval(() => void flush(), options.flushMs ?? DEFAULT_HISTORY_FLUSH_MS);
  timer.unref();
  const pruner = setInterval(() => void prune(), HOUR_MS);
  pruner.unref();
  const history: HealthHistory = {
    flush,
    async read(days, nowMs = Date.now()) {
      await flush();
      const toHour = Math.floor(nowMs / HOUR_MS);
      const fromHour = toHour - Math.ceil(days * 24) + 1;
      const merged = new Map<string, HourlyRollup>();
      const hours = new Set<number>();
      for (const rollup of await store.readRollups(fromHour, toHour)) {
        hours.add(rollup.hour);
        const existing = merged.get(rollup.connection);
        merged.set(
          rollup.connection,
          existing
            ? addRollup(existing, rollup)
            : addRollup(
                {
                  ...rollup,
                  byClass: {},
                  latency: [],
                  calls: 0,
                  errors: 0,
                  exhausted: 0,
                  throttledMs: 0,
                  freshness: { samples: 0, sumSeconds: 0, maxSeconds: 0 },
                },
                rollup,
              ),
        );
      }
      const sorted = [...hours].sort((a, b) => a - b);
      return {
        days,
        from: sorted.length > 0 ? new Date(sorted[0]! * HOUR_MS).toISOString() : null,
        to: sorted.length > 0 ? new Date((sorted.at(-1)! + 1) * HOUR_MS).toISOString() : null,
        hoursCovered: sorted.length,
        retentionDays: options.retentionDays,
        connections: [...merged.values()]
          .map((rollup) => ({
            name: rollup.connection,
            kind: rollup.kind,
            platform: rollup.platform ?? null,
            figures: figuresOf([{ ...rollup, byClass: Object.entries(rollup.byClass) }]),
            freshness:
              rollup.freshness.samples === 0
                ? null
                : {
                    samples: rollup.freshness.samples,
                    meanSeconds: rollup.freshness.sumSeconds / rollup.freshness.samples,
                    maxSeconds: rollup.freshness.maxSeconds,
                  },
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    },
    firstDenial: (client, item) => store.firstDenial(client, item, Date.now()),
    async stop() {
      clearInterval(timer);
      clearInterval(pruner);
      await flush();
      if (active === history) active = undefined;
      await store.close();
    },
  };
  active = history;
  return history;
}
