import { z } from 'zod';
import { connectSharedRedis } from '../../redis/shared-client.js';
import type { SharedConnection } from '../recorder.js';
import { sharedConnectionSchema } from '../shared.js';
import { HOUR_MS, hourlyRollupSchema, type HourlyRollup } from './rollup.js';
import type { HealthHistoryStore } from './store.js';

const recentSchema = z.object({ savedAt: z.number(), connections: z.array(sharedConnectionSchema) });

/** A process's minute figures are kept as long as the recorder keeps them. */
const RECENT_TTL_MS = 24 * HOUR_MS;

/**
 * The health history in Redis, under the event log's prefix, for workers and gateways that share
 * it: one hash per hour (`<prefix>:health-history:hour:<hour>`, field `<run>\n<connection>`) that expires
 * `retentionDays` after its hour, so pruning is Redis's own (outside `<prefix>:health:*`, which
 * holds the live snapshots lib/health/shared.ts scans); one key per process for its recent
 * minutes; one hash of first denials (HSETNX: the first gateway to note one wins).
 */
export async function openRedisHistory(
  url: string,
  prefix: string,
  retentionDays: number,
): Promise<HealthHistoryStore> {
  const redis = await connectSharedRedis({ url });
  const hourKey = (hour: number) => `${prefix}:health-history:hour:${hour}`;
  const recentKey = (owner: string) => `${prefix}:health-history:recent:${owner}`;
  const denialsKey = `${prefix}:health-history:denials`;
  return {
    kind: 'redis',
    async writeRollups(run, rollups) {
      if (rollups.length === 0) return;
      const multi = redis.multi();
      for (const rollup of rollups) {
        multi.hSet(hourKey(rollup.hour), `${run}\n${rollup.connection}`, JSON.stringify(rollup));
        multi.pExpireAt(hourKey(rollup.hour), (rollup.hour + 1) * HOUR_MS + retentionDays * 24 * HOUR_MS);
      }
      await multi.exec();
    },
    async readRollups(fromHour, toHour) {
      const hours = Array.from({ length: Math.max(0, toHour - fromHour + 1) }, (_, i) => fromHour + i);
      const rollups: HourlyRollup[] = [];
      // A quarter is some 2,200 hashes: read in batches of one round trip each.
      for (let i = 0; i < hours.length; i += 200) {
        const multi = redis.multi();
        for (const hour of hours.slice(i, i + 200)) multi.hGetAll(hourKey(hour));
        const answers = (await multi.exec()) as unknown as Record<string, string>[];
        for (const fields of answers)
          for (const value of Object.values(fields ?? {})) {
            const parsed = hourlyRollupSchema.safeParse(JSON.parse(value));
            if (parsed.success) rollups.push(parsed.data as HourlyRollup);
          }
      }
      return rollups;
    },
    async saveRecent(owner, connections, savedAt) {
      await redis.set(recentKey(owner), JSON.stringify({ savedAt, connections }), { PX: RECENT_TTL_MS });
    },
    async loadRecent(owner) {
      const value = await redis.get(recentKey(owner));
      if (value === null) return undefined;
      const parsed = recentSchema.safeParse(JSON.parse(value));
      return parsed.success
        ? { connections: parsed.data.connections as SharedConnection[], savedAt: parsed.data.savedAt }
        : undefined;
    },
    async firstDenial(client, item, at) {
      return (await redis.hSetNX(denialsKey, `${client}\n${item}`, String(at))) === 1;
    },
    async prune() {
      // Each hour's hash expires on its own.
    },
    async close() {
      if (redis.isOpen) await redis.close();
    },
  };
}
