import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { loadSyncFile, parseSyncDefinitions, type SyncDefinition } from '../../syncs/definition.js';
import { SyncEngine, type RunSummary } from '../../syncs/engine.js';
import { RedisSyncState } from '../../syncs/redis-state.js';
import { SyncStateStore } from '../../syncs/state.js';
import type { SyncState } from '../../syncs/state-port.js';
import { silentLogger } from '../helpers/context.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startTestStack } from '../helpers/stack.js';

/**
 * The Redis state the workers share (`WORKER_SYNCS=on`) against the SQLite one of a single process:
 * the same syncs run over each, from empty, give the same plans, samples, refused rows, retries and
 * mirror removals, so the engine cannot tell them apart.
 */

type Outcome = Omit<RunSummary, 'id' | 'durationMs'> & { failedRows?: number };

const strip = ({ id: _id, durationMs: _ms, ...rest }: RunSummary): Outcome => rest;

describe.runIf(REDIS_URL)(redisSuite('the syncs state in Redis'), () => {
  let stack: Stack;
  let definitions: SyncDefinition[];
  const opened: SyncState[] = [];

  const engineOver = (store: SyncState) =>
    new SyncEngine({
      store,
      source: { gatewayUrl: stack.gatewayUrl, apiKey: DEMO_API_KEYS['personalization-service'] },
      connect: (target) => target.platform.sandbox.connection(stack.origins[target.platform.name]),
      logger: silentLogger,
      timeoutMs: 10_000,
      maxRetries: 2,
    });

  /** Every step of the scenario over one store, each step's outcome in order. */
  async function scenario(store: SyncState): Promise<Outcome[]> {
    const engine = engineOver(store);
    const byName = (name: string) => definitions.find((d) => d.name === name) as SyncDefinition;
    const outcomes: Outcome[] = [];
    // A preview leaves nothing: no run in the history.
    outcomes.push(strip(await engine.run(byName('vip-customers'), { dryRun: true, sampleSize: 5 })));
    expect(await store.runs({ sync: 'vip-customers', limit: 10 })).toEqual([]);
    // A run, its refused rows, and the next run retrying only those.
    const first = await engine.run(byName('vip-customers'));
    outcomes.push({ ...strip(first), failedRows: (await store.runRows(first.id, 'FAILED', 1_000)).length });
    outcomes.push(strip(await engine.run(byName('vip-customers'))));
    // Quarantined rows and a mirror: the audience, then narrowed, so some leave it.
    outcomes.push(strip(await engine.run(byName('lapsed-buyers'))));
    const raw = (
      parse(readFileSync('syncs/demo.yaml', 'utf8')) as { syncs: Record<string, unknown>[] }
    ).syncs.find((s) => s['name'] === 'lapsed-buyers') as { source: Record<string, unknown> };
    const [narrowed] = parseSyncDefinitions({
      syncs: [
        {
          ...raw,
          source: {
            ...raw.source,
            where: [
              { field: 'ordersCount', gte: 1 },
              { field: 'lastOrderAt', olderThanDays: 120 },
            ],
          },
        },
      ],
    });
    const removal = await engine.run(narrowed as SyncDefinition);
    outcomes.push(strip(removal));
    // The history, newest first, as the graph lists it.
    const runs = await store.runs({ limit: 10 });
    expect(runs.map((run) => run.sync)).toEqual([
      'lapsed-buyers',
      'lapsed-buyers',
      'vip-customers',
      'vip-customers',
    ]);
    expect(
      runs.every((run) => run.finishedAt !== undefined && run.checkpoint === run.written + run.rejected),
    ).toBe(true);
    return outcomes;
  }

  beforeAll(async () => {
    stack = await startTestStack({ customers: 300, responseCache: false, ttlSeconds: 0 });
    definitions = loadSyncFile('syncs/demo.yaml');
  }, 60_000);
  afterAll(async () => {
    for (const store of opened) await store.close();
    await stack?.close();
  });

  it('should plan, write, retry and remove as the SQLite state does', async () => {
    const sqlite = new SyncStateStore(':memory:');
    opened.push(sqlite);
    const redis = await RedisSyncState.open({
      url: REDIS_URL ?? '',
      prefix: `test-syncs-state-${process.pid}-${Date.now()}`,
    });
    opened.push(redis);
    const expected = await scenario(sqlite);
    const actual = await scenario(redis);
    expect(actual).toEqual(expected);
    // The scenario did what it says: something refused and retried, something removed.
    expect(expected[1]?.failedRows).toBeGreaterThan(0);
    expect(expected[2]?.counts.inserts).toBe(expected[1]?.counts.rejected);
    expect(expected[4]?.counts.removals).toBeGreaterThan(0);
    expect(expected[0]?.samples.length).toBeGreaterThan(0);
    expect(await redis.countRecords('vip-customers')).toBe(sqlite.countRecords('vip-customers'));
    expect(await redis.countRecords('lapsed-buyers')).toBe(sqlite.countRecords('lapsed-buyers'));
  }, 120_000);
});
