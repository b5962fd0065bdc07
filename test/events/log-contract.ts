import { expect, it } from 'vitest';
import { EVENT_TYPES, type IncomingEvent } from '../../lib/events/event.js';
import { redisCursor, sqliteCursor } from '../../lib/events/log/cursor.js';
import type { EventLog } from '../../lib/events/log/types.js';

/**
 * One storage (an SQLite file, a Redis key prefix) on which log instances can be opened, as
 * several gateway processes (or one process restarting) would.
 */
export interface LogStorage {
  /** Opens another instance on this storage. */
  open(): Promise<EventLog>;
  /** Removes what the storage holds (the file, the keys). */
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let serial = 0;
/** A distinct incoming event; `n` picks its type among EVENT_TYPES so types vary. */
export function incomingEvent(overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  serial += 1;
  const at = new Date(Date.UTC(2026, 2, 1, 12, 0, serial % 60)).toISOString();
  return {
    dedupeKey: `test-${process.pid}-${serial}`,
    type: EVENT_TYPES[serial % EVENT_TYPES.length] ?? 'ORDER_PLACED',
    source: 'shopify',
    occurredAt: at,
    receivedAt: at,
    customer: { id: `customer-${serial}`, email: `buyer${serial}@example.com` },
    properties: { total: `${serial}.50`, lines: [serial, { sku: `sku-${serial}` }], gift: serial % 2 === 0 },
    personal: serial % 3 === 0 ? { firstName: `Ada${serial}` } : null,
    ...overrides,
  };
}

/** Without the fields the log adds, to compare with what was appended. */
function body(event: IncomingEvent): IncomingEvent {
  const { dedupeKey, type, source, occurredAt, receivedAt, customer, properties, personal } = event;
  return { dedupeKey, type, source, occurredAt, receivedAt, customer, properties, personal };
}

/** Claims everything due for `processor` and completes it, in inbox order; returns the delivered ids. */
async function drain(log: EventLog, processor = 'drain'): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claimed = await log.claim(processor, 100, 30_000);
    if (claimed.length === 0) return ids;
    for (const event of claimed) {
      await log.complete(event.id, { channels: ['all'] });
      ids.push(event.id);
    }
  }
}

function firstCall(log: EventLog, withinMs = 3_000): { fired: Promise<void>; stop: () => void } {
  let stop = () => {};
  const fired = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch did not fire within ${withinMs} ms`)), withinMs);
    stop = log.watch(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { fired, stop };
}

/**
 * The EventLog contract (lib/events/log/types.ts), run against every implementation.
 * `storage` gives each test its own empty storage.
 */
export function eventLogContract(storage: () => Promise<LogStorage>): void {
  async function withStorage(test: (open: () => Promise<EventLog>) => Promise<void>): Promise<void> {
    const store = await storage();
    const opened: EventLog[] = [];
    try {
      await test(async () => {
        const log = await store.open();
        opened.push(log);
        return log;
      });
    } finally {
      for (const log of opened) await log.close();
      await store.dispose();
    }
  }

  it('should store appended events with ids and skip duplicates, inside one batch and across batches', () =>
    withStorage(async (open) => {
      const log = await open();
      const [a, b, c] = [incomingEvent(), incomingEvent(), incomingEvent()];
      const first = await log.append([a, b, { ...a, properties: { redelivery: true } }]);
      expect(first.duplicates).toBe(1);
      expect(first.stored.map(body)).toEqual([a, b]);
      const second = await log.append([b, c]);
      expect(second.duplicates).toBe(1);
      expect(second.stored.map(body)).toEqual([c]);
      const ids = [...first.stored, ...second.stored].map((e) => e.id);
      expect(new Set(ids).size).toBe(3);
      expect((await log.stats()).pending).toBe(3);
      expect(await log.claim('p', 0, 30_000)).toEqual([]);
      const claimed = await log.claim('p', 10, 30_000);
      expect(claimed.map((e) => [e.id, body(e), e.attempts])).toEqual([
        [ids[0], a, 0],
        [ids[1], b, 0],
        [ids[2], c, 0],
      ]);
    }));

  it('should store a dedupe key once when concurrent appends race with it', () =>
    withStorage(async (open) => {
      const [one, two] = [await open(), await open()];
      const shared = incomingEvent();
      const others = Array.from({ length: 20 }, () => incomingEvent());
      const results = await Promise.all(
        others.map((other, i) => (i % 2 === 0 ? one : two).append([other, { ...shared }])),
      );
      expect(results.reduce((n, r) => n + r.stored.length, 0)).toBe(21);
      expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(19);
      expect((await one.stats()).pending).toBe(21);
    }));

  it('should refuse to append (throw) when it cannot store, so the caller does not acknowledge', () =>
    withStorage(async (open) => {
      const log = await open();
      await log.close();
      await expect(log.append([incomingEvent()])).rejects.toThrow();
    }));

  it('should deliver in completion order with increasing cursors, and read back what complete returned', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append(Array.from({ length: 5 }, () => incomingEvent()));
      const claimed = await log.claim('p', 10, 30_000);
      expect(claimed.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      const order = [3, 1, 4, 0, 2].map((i) => stored[i]?.id ?? '');
      const delivered = [];
      for (const [i, id] of order.entries())
        delivered.push(await log.complete(id, { channels: [`ch-${i}`] }));
      const read = await log.read(undefined, 10);
      expect(read).toEqual(delivered);
      expect(read.map((e) => e.id)).toEqual(order);
      expect(read.map((e) => e.channels)).toEqual([['ch-0'], ['ch-1'], ['ch-2'], ['ch-3'], ['ch-4']]);
      expect(read.map(body)).toEqual([3, 1, 4, 0, 2].map((i) => body(stored[i] as IncomingEvent)));
      const cursors = read.map((e) => e.cursor);
      expect([...cursors].sort()).toEqual(cursors);
      expect(new Set(cursors).size).toBe(5);
      for (const event of read) expect(Date.parse(event.processedAt)).not.toBeNaN();
      expect(await log.latestCursor()).toBe(cursors[4]);
      expect(await log.claim('p', 10, 30_000)).toEqual([]);
      expect((await log.stats()).pending).toBe(0);
    }));

  it('should deliver the customer reference a processor completed, and keep the appended one otherwise', () =>
    withStorage(async (open) => {
      const log = await open();
      const byEmail = incomingEvent({ customer: { email: 'late@example.com' } });
      const anonymous = incomingEvent({ customer: { id: 'customer-kept' } });
      const unmatched = incomingEvent({ customer: { email: 'gone@example.com' } });
      const { stored } = await log.append([byEmail, anonymous, unmatched]);
      await log.claim('p', 3, 30_000);
      const completed = { id: 'customer-42', email: 'late@example.com' };
      const first = await log.complete(stored[0]?.id ?? '', { channels: [], customer: completed });
      const second = await log.complete(stored[1]?.id ?? '', { channels: [] });
      // null is an answer too (the reference matched no one), not "keep the appended one".
      const third = await log.complete(stored[2]?.id ?? '', { channels: [], customer: null });
      const customers = [completed, { id: 'customer-kept' }, null];
      expect([first.customer, second.customer, third.customer]).toEqual(customers);
      const read = await log.read(undefined, 10);
      expect(read.map((e) => e.customer)).toEqual(customers);
      expect(read.map(({ customer: _, ...rest }) => rest)).toEqual(
        [first, second, third].map(({ customer: _, ...rest }) => rest),
      );
      expect(await log.complete(stored[0]?.id ?? '', { channels: [] })).toEqual(first);
      expect(await log.complete(stored[2]?.id ?? '', { channels: [] })).toEqual(third);
    }));

  it('should resume exactly after a cursor, with and without a type filter, within the limit', () =>
    withStorage(async (open) => {
      const log = await open();
      expect(await log.latestCursor()).toBeUndefined();
      expect(await log.read(undefined, 10)).toEqual([]);
      const types = ['ORDER_PLACED', 'FORM_SUBMITTED', 'PAGE_VIEWED'] as const;
      await log.append(
        Array.from({ length: 9 }, (_, i) => incomingEvent({ type: types[i % 3] ?? 'PAGE_VIEWED' })),
      );
      await drain(log);
      const all = await log.read(undefined, 100);
      expect(all).toHaveLength(9);
      const cursor = all[2]?.cursor;
      expect(await log.read(cursor, 100)).toEqual(all.slice(3));
      expect(await log.read(cursor, 2)).toEqual(all.slice(3, 5));
      const orders = await log.read(cursor, 100, { types: ['ORDER_PLACED'] });
      expect(orders).toEqual(all.slice(3).filter((e) => e.type === 'ORDER_PLACED'));
      expect(orders.length).toBe(2);
      const two = await log.read(undefined, 3, { types: ['FORM_SUBMITTED', 'PAGE_VIEWED'] });
      expect(two).toEqual(all.filter((e) => e.type !== 'ORDER_PLACED').slice(0, 3));
      expect(await log.read(await log.latestCursor(), 10)).toEqual([]);
    }));

  it('should reject an invalid cursor with a RangeError that says so', () =>
    withStorage(async (open) => {
      const log = await open();
      await expect(log.read('not-a-cursor', 10)).rejects.toThrow(RangeError);
      await expect(log.read('not-a-cursor', 10)).rejects.toThrow(/Invalid cursor "not-a-cursor"/);
      const foreign = log.kind === 'sqlite' ? redisCursor('1700000000000-0') : sqliteCursor(1);
      await expect(log.read(foreign, 10)).rejects.toThrow(RangeError);
    }));

  it('should hand a claimed event out again after visibilityMs, and deliver it once', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append([incomingEvent()]);
      const id = stored[0]?.id;
      const [crashed] = await log.claim('p1', 10, 300);
      expect(crashed?.id).toBe(id);
      expect(await log.claim('p2', 10, 300)).toEqual([]);
      await sleep(450);
      const [again] = await log.claim('p2', 10, 300);
      expect(again?.id).toBe(id);
      expect(again?.attempts).toBe(1);
      const byP2 = await log.complete(id ?? '', { channels: ['p2'] });
      // The first processor was only slow: its late completion must not deliver a second time.
      const byP1 = await log.complete(id ?? '', { channels: ['p1'] });
      expect(byP1).toEqual(byP2);
      expect((await log.read(undefined, 10)).map((e) => [e.id, e.channels])).toEqual([[id, ['p2']]]);
      await sleep(450);
      expect(await log.claim('p3', 10, 300)).toEqual([]);
    }));

  it('should never give the same event to two processors claiming at the same time', () =>
    withStorage(async (open) => {
      const [one, two] = [await open(), await open()];
      const { stored } = await one.append(Array.from({ length: 60 }, () => incomingEvent()));
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((processor, i) =>
          (i % 2 === 0 ? one : two).claim(processor, 15, 30_000),
        ),
      );
      const ids = claims.flat().map((e) => e.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids)).toEqual(new Set(stored.map((e) => e.id)));
    }));

  it('should deliver once when two instances complete the same event at the same time', () =>
    withStorage(async (open) => {
      const [one, two] = [await open(), await open()];
      const { stored } = await one.append([incomingEvent()]);
      const id = stored[0]?.id ?? '';
      await one.claim('p', 1, 30_000);
      const [a, b] = await Promise.all([
        one.complete(id, { channels: ['x'] }),
        two.complete(id, { channels: ['x'] }),
      ]);
      expect(a.cursor).toBe(b.cursor);
      expect((await one.read(undefined, 10)).map((e) => e.id)).toEqual([id]);
    }));

  it('should make a failed event due again at its retry time, then deliver it', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append([incomingEvent()]);
      const id = stored[0]?.id ?? '';
      await log.claim('p', 1, 30_000);
      await log.fail(id, { reason: 'enrichment timed out', retryAt: new Date(Date.now() + 400) });
      expect(await log.claim('p', 1, 30_000)).toEqual([]);
      expect((await log.stats()).pending).toBe(1);
      await sleep(550);
      const [retried] = await log.claim('p', 1, 30_000);
      expect([retried?.id, retried?.attempts]).toEqual([id, 1]);
      await log.complete(id, { channels: [] });
      expect((await log.read(undefined, 10)).map((e) => e.id)).toEqual([id]);
      expect(await log.stats()).toMatchObject({ pending: 0, delivered: 1, deadLetters: 0 });
    }));

  it('should dead-letter an event failed without a retry time, with its reason and attempts', () =>
    withStorage(async (open) => {
      const log = await open();
      const event = incomingEvent();
      const { stored } = await log.append([event]);
      const id = stored[0]?.id ?? '';
      await log.claim('p', 1, 30_000);
      await log.fail(id, { reason: 'timeout', retryAt: new Date() });
      const [second] = await log.claim('p', 1, 30_000);
      expect(second?.attempts).toBe(1);
      const before = Date.now();
      await log.fail(id, { reason: 'rule high-value-orders: lifecycleStage is not a string', retryAt: null });
      const dead = await log.deadLetters(10);
      expect(dead.map((d) => [d.id, d.reason, d.attempts])).toEqual([
        [id, 'rule high-value-orders: lifecycleStage is not a string', 2],
      ]);
      expect(body(dead[0] as IncomingEvent)).toEqual(event);
      expect(Date.parse(dead[0]?.failedAt ?? '')).toBeGreaterThanOrEqual(before - 1_000);
      expect(await log.claim('p', 1, 0)).toEqual([]);
      expect(await log.stats()).toMatchObject({ pending: 0, delivered: 0, deadLetters: 1 });
      await expect(log.complete(id, { channels: [] })).rejects.toThrow(/dead-lettered/);
      expect(await log.read(undefined, 10)).toEqual([]);
    }));

  it('should list dead letters oldest first, within the limit', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append([incomingEvent(), incomingEvent(), incomingEvent()]);
      await log.claim('p', 3, 30_000);
      for (const [i, index] of [2, 0, 1].entries()) {
        // No pause between: failures within one millisecond must keep their order too.
        await log.fail(stored[index]?.id ?? '', { reason: `reason ${i}`, retryAt: null });
      }
      const dead = await log.deadLetters(2);
      expect(dead.map((d) => [d.id, d.reason])).toEqual([
        [stored[2]?.id, 'reason 0'],
        [stored[0]?.id, 'reason 1'],
      ]);
    }));

  it('should replay dead letters by id and all, back in the inbox and delivered once each', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append([incomingEvent(), incomingEvent(), incomingEvent()]);
      const ids = stored.map((e) => e.id);
      await log.claim('p', 3, 30_000);
      for (const id of ids) await log.fail(id, { reason: 'downstream outage', retryAt: null });
      expect(await log.replay([ids[1] ?? '', 'no-such-event'])).toBe(1);
      expect((await log.deadLetters(10)).map((d) => d.id)).toEqual([ids[0], ids[2]]);
      const [replayed] = await log.claim('p', 10, 30_000);
      expect([replayed?.id, replayed?.attempts]).toEqual([ids[1], 0]);
      await log.complete(ids[1] ?? '', { channels: [] });
      expect(await log.replay()).toBe(2);
      expect(await log.replay()).toBe(0);
      expect(await log.deadLetters(10)).toEqual([]);
      expect((await drain(log)).sort()).toEqual([ids[0], ids[2]].sort());
      const delivered = (await log.read(undefined, 10)).map((e) => e.id);
      expect(delivered.sort()).toEqual([...ids].sort());
      expect(await log.stats()).toMatchObject({ pending: 0, delivered: 3, deadLetters: 0 });
    }));

  it('should tell watchers after a completion, until they stop watching', () =>
    withStorage(async (open) => {
      const log = await open();
      const { stored } = await log.append([incomingEvent(), incomingEvent()]);
      await log.claim('p', 2, 30_000);
      let calls = 0;
      const counting = log.watch(() => (calls += 1));
      const { fired, stop } = firstCall(log);
      await log.complete(stored[0]?.id ?? '', { channels: [] });
      await fired;
      stop();
      await sleep(100);
      expect(calls).toBeGreaterThanOrEqual(1);
      counting();
      const after = calls;
      await log.complete(stored[1]?.id ?? '', { channels: [] });
      await sleep(300);
      expect(calls).toBe(after);
    }));

  it('should prune delivered events by age and by count, and still resume after a pruned cursor', () =>
    withStorage(async (open) => {
      const log = await open();
      await log.append([incomingEvent(), incomingEvent(), incomingEvent()]);
      await drain(log);
      await sleep(250);
      await log.append([incomingEvent(), incomingEvent()]);
      await drain(log);
      const all = await log.read(undefined, 10);
      expect(await log.prune({ maxAgeMs: 150, maxEvents: 1_000 })).toBe(3);
      expect(await log.read(undefined, 10)).toEqual(all.slice(3));
      expect(await log.read(all[0]?.cursor, 10)).toEqual(all.slice(3));
      expect(await log.prune({ maxAgeMs: 3_600_000, maxEvents: 1 })).toBe(1);
      expect(await log.read(undefined, 10)).toEqual(all.slice(4));
      expect(await log.prune({ maxAgeMs: 3_600_000, maxEvents: 1 })).toBe(0);
      expect((await log.stats()).delivered).toBe(1);
      expect(await log.latestCursor()).toBe(all[4]?.cursor);
    }));

  it('should count pending, the oldest pending age, delivered and dead letters', () =>
    withStorage(async (open) => {
      const log = await open();
      expect(await log.stats()).toEqual({ pending: 0, oldestPendingMs: 0, delivered: 0, deadLetters: 0 });
      const { stored } = await log.append([
        incomingEvent(),
        incomingEvent(),
        incomingEvent(),
        incomingEvent(),
      ]);
      await sleep(120);
      await log.claim('p', 2, 30_000);
      await log.complete(stored[0]?.id ?? '', { channels: [] });
      await log.fail(stored[1]?.id ?? '', { reason: 'bad', retryAt: null });
      const stats = await log.stats();
      expect(stats).toMatchObject({ pending: 2, delivered: 1, deadLetters: 1 });
      expect(stats.oldestPendingMs).toBeGreaterThanOrEqual(100);
      expect(stats.oldestPendingMs).toBeLessThan(5_000);
    }));

  it('should reject completing or failing an event it never stored', () =>
    withStorage(async (open) => {
      const log = await open();
      await expect(log.complete('no-such-event', { channels: [] })).rejects.toThrow(/not in the event log/);
      await expect(log.fail('no-such-event', { reason: 'x', retryAt: null })).rejects.toThrow(
        /not in the event log/,
      );
    }));

  it('should keep everything when closed and opened again', () =>
    withStorage(async (open) => {
      const first = await open();
      const events = Array.from({ length: 4 }, () => incomingEvent());
      const { stored } = await first.append(events);
      await first.claim('p', 2, 30_000);
      await first.complete(stored[0]?.id ?? '', { channels: ['kept'] });
      await first.fail(stored[1]?.id ?? '', { reason: 'kept too', retryAt: null });
      const read = await first.read(undefined, 10);
      const dead = await first.deadLetters(10);
      const stats = await first.stats();
      await first.close();

      const second = await open();
      expect(await second.read(undefined, 10)).toEqual(read);
      expect(await second.deadLetters(10)).toEqual(dead);
      expect(await second.stats()).toMatchObject({ pending: stats.pending, delivered: 1, deadLetters: 1 });
      expect(await second.append([events[2] as IncomingEvent])).toEqual({ stored: [], duplicates: 1 });
      const claimed = await second.claim('p', 10, 30_000);
      expect(claimed.map((e) => e.id)).toEqual([stored[2]?.id, stored[3]?.id]);
      const next = await second.complete(stored[2]?.id ?? '', { channels: [] });
      // Delivered after the reopen, it still sorts after (and resumes after) the older cursor.
      const before = read[0]?.cursor ?? '';
      expect([next.cursor, before].sort()).toEqual([before, next.cursor]);
      expect(await second.read(before, 10)).toEqual([next]);
    }));
}
