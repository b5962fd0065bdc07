import { describe, expect, it } from 'vitest';
import {
  FAILING_LANE_CONCURRENCY,
  FAILING_PASS_GAP_MS,
  FAILING_STREAK_MS,
  RECENT_FAILURE_MS,
} from '../../deliveries/dispatcher.js';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL } from '../helpers/redis.js';
import { harness, processedEvent } from './harness.js';

/** One claiming pass as the store saw it: when, for which endpoints, and how many each got. */
interface Pass {
  atMs: number;
  claimed: Map<string, number>;
}

/** The real store, with every `claimMany` call (one claiming pass of the dispatcher) written down. */
function passesOf(passes: Pass[]): (store: DeliveryStore) => DeliveryStore {
  return (store) => {
    const spied = Object.create(store) as DeliveryStore;
    spied.claimMany = async (requests, owner, nowMs, leaseUntilMs) => {
      const results = await store.claimMany(requests, owner, nowMs, leaseUntilMs);
      passes.push({
        atMs: nowMs,
        claimed: new Map(
          requests.map((request, i) => [request.endpointId, results[i]?.messages.length ?? 0]),
        ),
      });
      return results;
    };
    return spied;
  };
}

describe('webhook delivery lanes', () => {
  it('should deliver everything to a healthy endpoint while a dead one holds all its attempts (no head-of-line blocking)', async () => {
    // Attempts to the dead endpoint outlast the test: they hold their lane the whole time.
    const h = await harness({ config: { attemptTimeoutMs: 120_000 } });
    const dead = await h.receiver(() => 'hold');
    const healthy = await h.receiver();
    const deadEndpoint = await h.deliveries.service.createEndpoint({ url: dead.url, ownerClientId: 'c' });
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: healthy.url, ownerClientId: 'c' });
    for (let i = 0; i < 60; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    const succeeded = await eventually(
      () => h.deliveries.service.messages({ endpointId: endpoint.id, status: 'succeeded', limit: 100 }),
      (messages) => messages.length === 60,
    );
    expect(succeeded).toHaveLength(60);
    expect(new Set(healthy.received.map((r) => r.headers['webhook-id'])).size).toBe(60);
    // The dead endpoint has exactly its own lane's worth in flight; the rest of its messages wait.
    expect(dead.held()).toBe(16);
    expect(dead.received).toHaveLength(16);
    expect(
      await h.deliveries.service.messages({
        endpointId: deadEndpoint.endpoint.id,
        status: 'pending',
        limit: 100,
      }),
    ).toHaveLength(60);
  });

  it("should claim a failing endpoint's retries coming due close together in one pass, late by at most 25 ms", async () => {
    // No change poll during the test: its re-read would be a pass of its own.
    const h = await harness({ config: { retryScheduleMs: [0, 100, 60_000], changePollMs: 60_000 } });
    const failing = await h.receiver(() => ({ status: 500 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: failing.url, ownerClientId: 'c' });
    const start = h.clock.now();
    // First attempts at +0, +5 and +10 ms: their retries come due at +100, +105 and +110.
    for (let i = 0; i < 3; i++) {
      await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      await h.deliveries.dispatcher.settled();
      if (i < 2) await h.tick(5);
    }
    await h.tick(90); // +100: the first retry, due now, wakes a pass
    await h.tick(10); // +110: the others are due, but wait for the gap after that pass
    expect(failing.received).toHaveLength(4);
    await h.tick(15); // +125: one pass takes both
    expect(failing.received).toHaveLength(6);
    const attempts = await h.deliveries.service.attempts({ endpointId: endpoint.id, limit: 10 });
    expect(attempts.map((a) => a.attemptedAtMs - start).sort((a, b) => a - b)).toEqual([
      0, 5, 10, 100, 125, 125,
    ]);
  });

  // The dispatcher's part, so the same with either store: the Redis one when REDIS_URL is set.
  const stores = [
    { kind: 'SQLite', redisUrl: undefined },
    ...(REDIS_URL ? [{ kind: 'Redis', redisUrl: REDIS_URL }] : []),
  ];
  it.each(stores)(
    'should claim an endpoint in a failing streak in passes of its own, at most one per gap and 2 attempts at a time, until it answers again ($kind store)',
    async ({ redisUrl }) => {
      const passes: Pass[] = [];
      // A retry 10 ms after each failure, for longer than the test; no change poll (a pass of its own).
      const h = await harness({
        config: { retryScheduleMs: [0, ...Array<number>(49).fill(10)], changePollMs: 60_000 },
        wrapStore: passesOf(passes),
        ...(redisUrl === undefined ? {} : { redisUrl }),
      });
      const failing = await h.receiver(() => ({ status: 500 }));
      const healthy = await h.receiver();
      const bad = (await h.deliveries.service.createEndpoint({ url: failing.url, ownerClientId: 'c' }))
        .endpoint;
      const good = (await h.deliveries.service.createEndpoint({ url: healthy.url, ownerClientId: 'c' }))
        .endpoint;
      for (let i = 0; i < 20; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      await h.deliveries.dispatcher.settled();
      expect([failing.received.length, healthy.received.length]).toEqual([20, 20]);

      // Until a failure comes FAILING_STREAK_MS after the streak's first, it is claimed like any
      // lane: every retry as it comes due, 16 at a time, in the same passes as the healthy endpoint's.
      const streakStarted = h.clock.now();
      while (h.clock.now() - streakStarted < FAILING_STREAK_MS) await h.tick(10);
      const early = passes.filter((pass) => pass.claimed.has(bad.id));
      expect(early.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...early.map((pass) => pass.claimed.get(bad.id) ?? 0))).toBe(16);
      while (h.clock.now() - streakStarted < FAILING_STREAK_MS + 2 * FAILING_PASS_GAP_MS) await h.tick(10);

      // In the streak: the healthy endpoint's messages still go at once, in passes that never claim
      // for the failing one; the failing one is claimed at most once per gap, 2 messages at most.
      passes.length = 0;
      const from = h.clock.now();
      let sent = 20;
      for (let ms = 0; ms < 1_000; ms += 10) {
        await h.deliveries.enqueueForEvent(processedEvent(h.clock));
        sent++;
        await h.tick(10);
        expect(healthy.received).toHaveLength(sent);
      }
      const failingPasses = passes.filter((pass) => pass.claimed.has(bad.id));
      for (const pass of failingPasses) expect([...pass.claimed.keys()]).toEqual([bad.id]);
      expect(passes.filter((pass) => pass.claimed.has(good.id)).length).toBeGreaterThanOrEqual(100);
      expect(failingPasses.length).toBeGreaterThanOrEqual(1_000 / FAILING_PASS_GAP_MS - 1);
      expect(failingPasses.length).toBeLessThanOrEqual(1_000 / FAILING_PASS_GAP_MS + 1);
      const gaps = failingPasses.slice(1).map((pass, i) => pass.atMs - (failingPasses[i]?.atMs ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(FAILING_PASS_GAP_MS);
      expect(Math.max(...failingPasses.map((pass) => pass.claimed.get(bad.id) ?? 0))).toBe(
        FAILING_LANE_CONCURRENCY,
      );
      // Still tried (retries late by at most the gap), and every attempt recorded.
      const attemptsMade = failing.received.length;
      const recorded = await h.store.attempts({ endpointId: bad.id, limit: 10_000 });
      expect(recorded).toHaveLength(attemptsMade);
      expect(recorded.every((attempt) => attempt.statusCode === 500)).toBe(true);
      expect(h.clock.now() - from).toBe(1_000);

      // Once it answers again, the first success ends the streak: full concurrency, every message through.
      failing.answer = () => ({ status: 200 });
      await h.tick(FAILING_PASS_GAP_MS);
      const pending = await h.deliveries.service.messages({
        endpointId: bad.id,
        status: 'pending',
        limit: 200,
      });
      expect(pending).toHaveLength(0);
      const succeeded = await h.deliveries.service.messages({
        endpointId: bad.id,
        status: 'succeeded',
        limit: 200,
      });
      expect(succeeded).toHaveLength(sent);
    },
  );

  it.each(stores)(
    'should hold at most 2 attempts to a dead endpoint in a failing streak, and a timed-out attempt should wake no pass of its own ($kind store)',
    async ({ redisUrl }) => {
      const passes: Pass[] = [];
      // Real timeouts of 100 ms (the clock's time stands still meanwhile); a retry 1 s (on the clock) after each.
      const h = await harness({
        config: { attemptTimeoutMs: 100, retryScheduleMs: [0, 1_000, 1_000, 1_000], changePollMs: 60_000 },
        wrapStore: passesOf(passes),
        ...(redisUrl === undefined ? {} : { redisUrl }),
      });
      const dead = await h.receiver(() => 'hold');
      const { endpoint } = await h.deliveries.service.createEndpoint({ url: dead.url, ownerClientId: 'c' });
      // Counted as recorded, not as received: on a busy machine a request may time out before the
      // receiver has read it.
      const attempted = async () =>
        (await h.store.attempts({ endpointId: endpoint.id, limit: 1_000 })).length;
      for (let i = 0; i < 40; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      // Its first attempts, 16 at a time: the streak starts with the first timeouts.
      await h.deliveries.dispatcher.settled();
      expect(await attempted()).toBe(40);

      // 1 s on, every retry is due: the first 16 go (the lane is not in its streak yet), and their
      // timeouts, a second after the first ones, put it in: from then on one pass per gap, 2 at a
      // time, and a timeout frees its slot without waking a pass until the gap has passed.
      passes.length = 0;
      await h.tick(1_000);
      expect(passes[0]?.claimed.get(endpoint.id)).toBe(16);
      const inStreak = passes.slice(1).map((pass) => pass.claimed.get(endpoint.id) ?? 0);
      expect(inStreak).toHaveLength(1);
      expect(inStreak[0]).toBeLessThanOrEqual(FAILING_LANE_CONCURRENCY);
      let sent = 40 + 16 + (inStreak[0] ?? 0);
      expect(await attempted()).toBe(sent);
      await h.tick(FAILING_PASS_GAP_MS - 1);
      expect(await attempted()).toBe(sent);
      expect(passes).toHaveLength(2);
      await h.tick(1);
      for (let i = 0; i < 8; i++) {
        sent += FAILING_LANE_CONCURRENCY;
        expect(await attempted()).toBe(sent);
        expect(passes).toHaveLength(3 + i);
        expect(passes.at(-1)?.claimed.get(endpoint.id)).toBe(FAILING_LANE_CONCURRENCY);
        await h.tick(FAILING_PASS_GAP_MS);
      }
      // Every attempt recorded as a timeout; the rest wait, pending.
      sent += FAILING_LANE_CONCURRENCY;
      const recorded = await h.store.attempts({ endpointId: endpoint.id, limit: 1_000 });
      expect(recorded).toHaveLength(sent);
      expect(dead.received.length).toBeLessThanOrEqual(sent);
      expect(recorded.every((attempt) => attempt.errorClass === 'timeout')).toBe(true);
      expect(
        await h.deliveries.service.messages({ endpointId: endpoint.id, status: 'pending', limit: 100 }),
      ).toHaveLength(40);
    },
  );

  it.each(stores)(
    'should claim and send to an endpoint that failed recently after the healthy ones, without capping it, until a second of successes ($kind store)',
    async ({ redisUrl }) => {
      const passes: Pass[] = [];
      const h = await harness({
        config: { retryScheduleMs: [0, ...Array<number>(9).fill(10)], changePollMs: 60_000 },
        wrapStore: passesOf(passes),
        ...(redisUrl === undefined ? {} : { redisUrl }),
      });
      // The first attempt of every other message answered 500, as the bench's flaky endpoint: a
      // success every few attempts, so never in a failing streak.
      // The turn of the event loop each event's first request arrived in, per endpoint.
      let turn = 0;
      let counting = false;
      const arrivedIn = new Map<string, number>();
      const arrival = (endpoint: string, body: string) => {
        const key = `${endpoint} ${(JSON.parse(body) as { data: { id: string } }).data.id}`;
        if (counting && !arrivedIn.has(key)) arrivedIn.set(key, turn);
      };
      const tries = new Map<string, number>();
      const flaky = await h.receiver((request) => {
        arrival('flaky', request.body);
        const id = String(request.headers['webhook-id']);
        const order = [...tries.keys()].indexOf(id);
        tries.set(id, (tries.get(id) ?? 0) + 1);
        return { status: order === -1 && tries.size % 2 === 1 ? 500 : 200 };
      });
      const healthy = await h.receiver((request) => {
        arrival('healthy', request.body);
        return { status: 200 };
      });
      // The flaky endpoint made first: lanes are kept in the order made, so it would come first.
      const bad = (await h.deliveries.service.createEndpoint({ url: flaky.url, ownerClientId: 'c' }))
        .endpoint;
      const good = (await h.deliveries.service.createEndpoint({ url: healthy.url, ownerClientId: 'c' }))
        .endpoint;
      const order = (pass: Pass) => [...pass.claimed.keys()].filter((id) => id === bad.id || id === good.id);
      await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      await h.deliveries.dispatcher.settled();
      // Before its first failure it is a lane like any other, in the order made.
      expect(order(passes[0]!)).toEqual([bad.id, good.id]);
      expect(flaky.received).toHaveLength(1); // answered 500

      // Failed recently: in every pass claiming for both, its claims come after the healthy one's.
      // Its requests start after the next poll of the event loop, so they arrive (in this process)
      // at least one turn after the healthy endpoint's of the same pass; a turn counted here by an
      // immediate queued from the last.
      passes.length = 0;
      counting = true;
      const spin = () => {
        turn++;
        if (counting) setImmediate(spin);
      };
      setImmediate(spin);
      let sent = 1;
      const events: string[] = [];
      for (let i = 0; i < 20; i++) {
        const event = processedEvent(h.clock);
        events.push(event.id);
        await h.deliveries.enqueueForEvent(event);
        sent++;
        await h.tick(10);
        // The healthy endpoint's messages still go at once.
        expect(healthy.received).toHaveLength(sent);
      }
      counting = false;
      for (const id of events)
        expect(arrivedIn.get(`flaky ${id}`)).toBeGreaterThan(arrivedIn.get(`healthy ${id}`) ?? Infinity);
      const both = passes.filter((pass) => pass.claimed.has(bad.id) && pass.claimed.has(good.id));
      expect(both.length).toBeGreaterThanOrEqual(10);
      for (const pass of both) expect(order(pass)).toEqual([good.id, bad.id]);

      // Not capped: its retries come due and go, every message gets its 2xx, every attempt recorded.
      for (let i = 0; i < 10; i++) await h.tick(10);
      const succeeded = await h.deliveries.service.messages({
        endpointId: bad.id,
        status: 'succeeded',
        limit: 100,
      });
      expect(succeeded).toHaveLength(sent);
      const recorded = await h.store.attempts({ endpointId: bad.id, limit: 1_000 });
      expect(recorded).toHaveLength(flaky.received.length);
      expect(recorded.filter((attempt) => attempt.statusCode === 200)).toHaveLength(sent);

      // A second after its last failure (only successes since) it is promoted: the order made again.
      flaky.answer = () => ({ status: 200 });
      await h.tick(RECENT_FAILURE_MS);
      passes.length = 0;
      await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      await h.deliveries.dispatcher.settled();
      expect(order(passes[0]!)).toEqual([bad.id, good.id]);
    },
  );

  it("should keep to an endpoint's rate limit per second, and a limited endpoint should not slow another", async () => {
    const h = await harness();
    const limited = await h.receiver();
    const free = await h.receiver();
    await h.deliveries.service.createEndpoint({
      url: limited.url,
      ownerClientId: 'c',
      rateLimitPerSecond: 2,
    });
    await h.deliveries.service.createEndpoint({ url: free.url, ownerClientId: 'c' });
    for (let i = 0; i < 5; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect([limited.received.length, free.received.length]).toEqual([2, 5]);
    await h.tick(499);
    expect(limited.received).toHaveLength(2);
    await h.tick(1);
    expect(limited.received).toHaveLength(3);
    await h.tick(500);
    expect(limited.received).toHaveLength(4);
    await h.tick(1_000);
    expect(limited.received).toHaveLength(5);
  });

  it('should take a changed rate limit at once', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
      rateLimitPerSecond: 1,
    });
    for (let i = 0; i < 4; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    await h.deliveries.service.updateEndpoint(endpoint.id, { rateLimitPerSecond: null });
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(4);
  });
});
