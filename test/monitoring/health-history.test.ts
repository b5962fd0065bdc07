import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHealthHistory } from '../../lib/health/history/keeper.js';
import { HOUR_MS, type HourlyRollup } from '../../lib/health/history/rollup.js';
import { openHealthHistoryStore, type HealthHistorySettings } from '../../lib/health/history/store.js';
import {
  connectionWindows,
  recordOutcome,
  recordThrottled,
  resetConnectionHealth,
} from '../../lib/health/recorder.js';
import { createLogger } from '../../lib/logger.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

/**
 * Issue 16, long-term history: the recorder's figures rolled up per connection and hour into the
 * SQLite file (or Redis), read back by a new store on the same file after a "restart", with the
 * recorder's windows put back; rollups of several runs add up; old hours are pruned.
 */
const logger = createLogger({ name: 'test', level: 'silent' });
const shopify = { name: 'shopify', kind: 'platform' as const, platform: 'shopify' };

const seeded = (hour: number, calls: number, errors: number): HourlyRollup => ({
  connection: 'shopify',
  kind: 'platform',
  platform: 'shopify',
  hour,
  calls,
  errors,
  exhausted: 0,
  byClass: errors > 0 ? { server: errors } : {},
  // All in the 50 ms bucket (index 4), the failures in the 1 s one (index 8).
  latency: [0, 0, 0, 0, calls - errors, 0, 0, 0, errors],
  throttledMs: 1_000,
  freshness: { samples: 2, sumSeconds: 20, maxSeconds: 15 },
});

const backends: [string, () => HealthHistorySettings, boolean][] = [
  [
    'sqlite',
    () => ({ kind: 'sqlite', file: join(mkdtempSync(join(tmpdir(), 'history-')), 'events.db') }),
    true,
  ],
  [
    'redis',
    () => ({ kind: 'redis', url: REDIS_URL ?? '', prefix: `test-history-${process.pid}-${Date.now()}` }),
    Boolean(REDIS_URL),
  ],
];

describe.each(backends)('health history in %s', (kind, settingsOf, runs) => {
  afterEach(() => resetConnectionHealth());

  it.runIf(runs)(
    redisSuite(`should keep hourly rollups and recent figures across a restart (${kind})`),
    async () => {
      const settings = settingsOf();
      const now = Date.now();
      for (let i = 0; i < 8; i++) recordOutcome(shopify, { ok: true, latencyMs: 40 });
      recordOutcome(shopify, { ok: false, latencyMs: 900, errorClass: 'rate-limited' });
      recordOutcome(shopify, { ok: false, latencyMs: 900, errorClass: 'server' });
      recordThrottled(shopify, 2_500);
      const first = await startHealthHistory({
        store: await openHealthHistoryStore(settings, 100),
        owner: 'gateway',
        retentionDays: 100,
        logger,
      });
      await first.stop();

      // The process restarts: nothing in memory, a new store on the same file (or Redis).
      resetConnectionHealth();
      expect(connectionWindows(now)).toEqual([]);
      const second = await startHealthHistory({
        store: await openHealthHistoryStore(settings, 100),
        owner: 'gateway',
        retentionDays: 100,
        logger,
      });
      const restored = connectionWindows().find((c) => c.name === 'shopify');
      expect(restored?.windows['1h']).toMatchObject({
        calls: 10,
        errors: 2,
        errorsByClass: { 'rate-limited': 1, server: 1 },
        throttledMs: 2_500,
      });
      expect(restored?.lastSuccessAt).not.toBeNull();

      // New calls after the restart add to the history; the restored ones are not counted twice.
      recordOutcome(shopify, { ok: true, latencyMs: 40 });
      const span = await second.read(90);
      const row = span.connections.find((c) => c.name === 'shopify');
      expect(row?.figures).toMatchObject({
        calls: 11,
        errors: 2,
        errorsByClass: { 'rate-limited': 1, server: 1 },
        throttledMs: 2_500,
        latencyMs: { p50: 50, p95: 1_000, p99: 1_000 },
      });
      expect(row?.freshness?.samples).toBeGreaterThanOrEqual(2);
      expect(span.hoursCovered).toBeGreaterThanOrEqual(1);
      await second.flush();
      expect((await second.read(90)).connections.find((c) => c.name === 'shopify')?.figures.calls).toBe(11);
      await second.stop();
    },
  );

  it.runIf(runs)(redisSuite(`should sum a quarter of hours over every run (${kind})`), async () => {
    const settings = settingsOf();
    const store = await openHealthHistoryStore(settings, 100);
    const hour = Math.floor(Date.now() / HOUR_MS);
    // 60 hours, 30 to 89 hours ago, by one run; 10 of them again by another process's run.
    await store.writeRollups(
      'worker-a/1',
      Array.from({ length: 60 }, (_, i) => seeded(hour - 30 - i, 100, 2)),
    );
    await store.writeRollups(
      'worker-b/1',
      Array.from({ length: 10 }, (_, i) => seeded(hour - 30 - i, 50, 0)),
    );
    const history = await startHealthHistory({ store, owner: 'gateway', retentionDays: 100, logger });
    const span = await history.read(90);
    expect(span.hoursCovered).toBe(60);
    expect(span.from).toBe(new Date((hour - 89) * HOUR_MS).toISOString());
    expect(span.to).toBe(new Date((hour - 29) * HOUR_MS).toISOString());
    expect(span.connections).toHaveLength(1);
    expect(span.connections[0]!.figures).toMatchObject({
      calls: 6_500,
      errors: 120,
      errorsByClass: { server: 120 },
      throttledMs: 70_000,
    });
    expect(span.connections[0]!.freshness).toEqual({ samples: 140, meanSeconds: 10, maxSeconds: 15 });
    // The last day holds none of it; the last two days, the 18 hours from 30 to 47 hours ago.
    expect((await history.read(1)).hoursCovered).toBe(0);
    expect((await history.read(2)).hoursCovered).toBe(18);
    await history.stop();
  });

  it.runIf(runs)(redisSuite(`should note a client's denial as new only once (${kind})`), async () => {
    const settings = settingsOf();
    const store = await openHealthHistoryStore(settings, 100);
    expect(await store.firstDenial('reporting-dashboard', 'field:Customer.phone', 1)).toBe(true);
    expect(await store.firstDenial('reporting-dashboard', 'field:Customer.phone', 2)).toBe(false);
    expect(await store.firstDenial('reporting-dashboard', 'scope:events:admin', 3)).toBe(true);
    await store.close();
    const reopened = await openHealthHistoryStore(settings, 100);
    expect(await reopened.firstDenial('reporting-dashboard', 'field:Customer.phone', 4)).toBe(false);
    await reopened.close();
  });
});

describe('health history retention', () => {
  it('should prune hours older than the retention from the SQLite file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'history-')), 'events.db');
    const store = await openHealthHistoryStore({ kind: 'sqlite', file }, 100);
    const hour = Math.floor(Date.now() / HOUR_MS);
    await store.writeRollups('old/1', [seeded(hour - 101 * 24, 5, 0), seeded(hour - 99 * 24, 7, 0)]);
    const history = await startHealthHistory({ store, owner: 'gateway', retentionDays: 100, logger });
    const span = await history.read(3650);
    expect(span.connections[0]?.figures.calls).toBe(7);
    await history.stop();
  });
});
