import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { loadSyncFile } from '../../syncs/definition.js';
import { SyncScheduler } from '../../syncs/scheduler.js';
import type { SyncService } from '../../syncs/service.js';
import { silentLogger } from '../helpers/context.js';
import { startTestStack } from '../helpers/stack.js';
import { syncServiceFor } from './harness.js';

/** The scheduler starts each sync when its schedule says, once, never two runs of one sync at a time. */

const HOUR = 3_600_000;

describe('the sync scheduler', () => {
  let stack: Stack;
  let service: SyncService;
  let scheduler: SyncScheduler;

  beforeAll(async () => {
    stack = await startTestStack({ customers: 120, responseCache: false, ttlSeconds: 0 });
    service = syncServiceFor(stack, loadSyncFile('syncs/demo.yaml'), ':memory:');
    scheduler = new SyncScheduler(service, { logger: silentLogger, firstRun: 'at-once' });
  }, 60_000);
  it('should wait one interval before the first run of an interval sync, unless told otherwise', () => {
    const fresh = syncServiceFor(stack, loadSyncFile('syncs/demo.yaml'), ':memory:');
    const waiting = new SyncScheduler(fresh, { logger: silentLogger });
    const now = Date.now();
    expect(waiting.tick(now)).toEqual([]);
    const firstListing = fresh.list(now);
    fresh.close();
    // Not run, and not to be before an hour: the listing still says due now (no run yet), the scheduler waits.
    expect(firstListing.every((l) => l.lastRun === undefined)).toBe(true);
  });

  afterAll(async () => {
    await scheduler.stop();
    service.close();
    await stack.close();
  });

  it('should start the hourly syncs at once, the daily one at its hour, and each once until due again', async () => {
    const now = Date.now();
    expect(scheduler.tick(now)).toEqual(['vip-customers', 'commerce-totals']);
    // Still running: not started a second time.
    expect(scheduler.tick(now)).toEqual([]);
    await scheduler.idle();
    expect(
      service
        .runs()
        .map((r) => [r.sync, r.trigger])
        .sort(),
    ).toEqual([
      ['commerce-totals', 'schedule'],
      ['vip-customers', 'schedule'],
    ]);
    expect(scheduler.tick(now + 60_000)).toEqual([]);
    const lapsed = service.list(now).find((l) => l.definition.name === 'lapsed-buyers');
    const at = lapsed?.nextRunAt ?? 0;
    // 06:00 in Paris, whatever the season: 04:00 or 05:00 UTC.
    expect([4, 5]).toContain(new Date(at).getUTCHours());
    // By then (the next morning) the hourly ones are due again too.
    expect(at).toBeGreaterThan(now + HOUR);
    expect(scheduler.tick(at)).toEqual(['vip-customers', 'lapsed-buyers', 'commerce-totals']);
    await scheduler.idle();
    expect(service.runs({ sync: 'vip-customers' }).length).toBe(2);
    expect(service.runs({ sync: 'lapsed-buyers' }).map((r) => r.status)).toEqual(['SUCCEEDED']);
  }, 60_000);
});
