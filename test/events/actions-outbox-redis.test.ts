import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisActionOutbox } from '../../events/actions/outbox-redis.js';
import type { ActionOutbox, NewAction } from '../../events/actions/outbox.js';
import { ActionRunner, actionKey } from '../../events/actions/runner.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import type { PixelSnapshot } from '../../platforms/meta/sandbox/pixels.js';
import { connectActionExecutors, sandboxConnections } from '../../platforms/registry.js';
import { silentLogger } from '../helpers/context.js';
import { eventually } from '../helpers/gateway-process.js';
import { dropPrefix } from '../helpers/redis-prefix.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { scratch, storedEvent } from './actions-helpers.js';

const { pixelId } = META_DEMO.assets;
const files = scratch();
afterAll(() => files.cleanup());

const event = (id: string) => ({ ...storedEvent({ id, type: 'ORDER_PLACED' }), customer: null });
const action = (key: string, platform = 'meta', type = 'conversion'): NewAction => ({
  key,
  rule: 'r',
  platform,
  type,
  params: { event: 'Purchase' },
  event: event(`evt-${key}`),
});

describe.runIf(REDIS_URL)(redisSuite('the action outbox (Redis)'), () => {
  const opened: ActionOutbox[] = [];
  const open = async (prefix: string, visibilityMs = 60_000) => {
    const outbox = await openRedisActionOutbox({ url: REDIS_URL ?? '', prefix, visibilityMs });
    opened.push(outbox);
    return outbox;
  };
  const prefixes: string[] = [];
  const fresh = () => {
    const prefix = `test-actions-${randomUUID()}`;
    prefixes.push(prefix);
    return prefix;
  };
  afterAll(async () => {
    for (const outbox of opened) await outbox.close();
    for (const prefix of prefixes) await dropPrefix(REDIS_URL ?? '', prefix);
  });

  it('should record an action once per key, whichever connection enqueues it, and keep it', async () => {
    const prefix = fresh();
    const [first, second] = [await open(prefix), await open(prefix)];
    const key = actionKey('big orders', 0, 'evt-1');
    expect(await first.enqueue([action(key)])).toBe(1);
    expect(await second.enqueue([action(key), action('other')])).toBe(1);
    await first.close();
    const reopened = await open(prefix);
    expect((await reopened.list()).map((a) => [a.key, a.status, a.attempts])).toEqual([
      [key, 'pending', 0],
      ['other', 'pending', 0],
    ]);
    expect(await reopened.get(key)).toMatchObject({ rule: 'r', params: { event: 'Purchase' } });
  });

  it('should hand each due action to one claimer only, however many claim at once', async () => {
    const prefix = fresh();
    const claimers = await Promise.all([open(prefix), open(prefix), open(prefix)]);
    await claimers[0]!.enqueue(Array.from({ length: 300 }, (_, i) => action(`k${i}`)));
    const now = Date.now();
    const rounds = await Promise.all(
      Array.from({ length: 30 }, (_, i) => claimers[i % 3]!.claim('meta', 'conversion', 17, now)),
    );
    const keys = rounds.flat().map((a) => a.key);
    expect(keys).toHaveLength(300);
    expect(new Set(keys).size).toBe(300);
    expect(rounds.flat().every((a) => a.status === 'sending' && a.attempts === 1)).toBe(true);
    expect(await claimers[0]!.due(now)).toEqual([]);
  });

  it('should group due actions by kind, settle them, and prune what is settled', async () => {
    const outbox = await open(fresh());
    await outbox.enqueue([action('m1'), action('m2'), action('t1', 'twilio', 'send-sms')]);
    const now = Date.now() + 10;
    const groups = await outbox.due(now);
    expect(groups.map((g) => [g.platform, g.type, g.count]).sort()).toEqual([
      ['meta', 'conversion', 2],
      ['twilio', 'send-sms', 1],
    ]);
    const [m1, m2] = await outbox.claim('meta', 'conversion', 10, now);
    const [t1] = await outbox.claim('twilio', 'send-sms', 10, now);
    await outbox.settle([
      { key: m1!.key, status: 'done', detail: 'order-1' },
      { key: m2!.key, status: 'pending', code: 'UPSTREAM_RATE_LIMITED', reason: '429', dueAt: now + 60_000 },
      { key: t1!.key, status: 'failed', code: 'SMS_OPTED_OUT', reason: 'STOP' },
    ]);
    expect(await outbox.get('m1')).toMatchObject({ status: 'done', detail: 'order-1', code: null });
    expect(await outbox.get('m2')).toMatchObject({ status: 'pending', attempts: 1, dueAt: now + 60_000 });
    expect(await outbox.get('t1')).toMatchObject({ status: 'failed', code: 'SMS_OPTED_OUT' });
    expect(await outbox.due(now)).toEqual([]);
    expect(await outbox.nextDueAt()).toBe(now + 60_000);
    expect((await outbox.list({ status: 'pending' })).map((a) => a.key)).toEqual(['m2']);
    // A settle for an action that is not under way (already settled) changes nothing.
    await outbox.settle([{ key: 'm1', status: 'failed', code: 'LATE', reason: 'late' }]);
    expect(await outbox.get('m1')).toMatchObject({ status: 'done' });
    expect(await outbox.prune(Date.now() + 1_000)).toBe(2);
    expect((await outbox.list()).map((a) => a.key)).toEqual(['m2']);
  });

  it('should take back a claim once its lease runs out, and only then: again due if idempotent, else ACTION_OUTCOME_UNKNOWN', async () => {
    const prefix = fresh();
    const dying = await open(prefix, 500);
    const other = await open(prefix, 500);
    await dying.enqueue([action('a'), action('b', 'twilio', 'send-sms')]);
    const claimedAt = Date.now();
    expect(await dying.claim('meta', 'conversion', 10, claimedAt)).toHaveLength(1);
    expect(await dying.claim('twilio', 'send-sms', 10, claimedAt)).toHaveLength(1);
    // The worker is killed here. While its lease runs, another worker's recovery leaves its claims alone.
    const idempotent = (platform: string) => platform === 'meta';
    expect(await other.recover(idempotent, claimedAt + 100)).toEqual({ requeued: 0, unknown: [] });
    expect(await other.get('a')).toMatchObject({ status: 'sending' });
    const recovered = await other.recover(idempotent, claimedAt + 600);
    expect(recovered.requeued).toBe(1);
    expect(recovered.unknown.map((a) => [a.key, a.code])).toEqual([['b', 'ACTION_OUTCOME_UNKNOWN']]);
    expect(await other.get('b')).toMatchObject({ status: 'failed', code: 'ACTION_OUTCOME_UNKNOWN' });
    const [again] = await other.claim('meta', 'conversion', 10, claimedAt + 600);
    expect(again).toMatchObject({ key: 'a', status: 'sending', attempts: 2 });
    expect(await other.recover(idempotent, claimedAt + 700)).toEqual({ requeued: 0, unknown: [] });
  });

  it('should renew the lease of an action still claimed, and not of one taken back', async () => {
    const prefix = fresh();
    const worker = await open(prefix, 500);
    const other = await open(prefix, 500);
    await worker.enqueue([action('slow'), action('lost')]);
    const claimedAt = Date.now();
    expect(await worker.claim('meta', 'conversion', 10, claimedAt)).toHaveLength(2);
    expect(await other.recover(() => true, claimedAt + 600)).toEqual({ requeued: 2, unknown: [] });
    expect(await other.claim('meta', 'conversion', 1, claimedAt + 600)).toHaveLength(1); // 'slow' again
    // 'slow' is claimed again (by the other worker), 'lost' waits: only the claimed one is renewed.
    expect(await worker.renew?.(['slow', 'lost'], claimedAt + 900)).toBe(1);
    expect(await other.recover(() => true, claimedAt + 1_300)).toEqual({ requeued: 0, unknown: [] });
    expect(await other.get('slow')).toMatchObject({ status: 'sending' });
    expect((await other.recover(() => true, claimedAt + 1_401)).requeued).toBe(1);
  });

  it('should refuse a visibility timeout that is not a positive integer', async () => {
    await expect(openRedisActionOutbox({ url: REDIS_URL ?? '', visibilityMs: 0 })).rejects.toThrow(
      /visibilityMs must be a positive integer/,
    );
  });

  describe('runners sharing it against the Meta sandbox', () => {
    let meta: RunningSandbox;
    beforeAll(async () => {
      meta = await startSandbox('meta', { customers: 20 });
    });
    afterAll(async () => {
      await meta?.close();
    });

    it('should keep the claim of a call slower than the lease, so another runner does not send it again', async () => {
      const prefix = fresh();
      const rules = files.rules(`
rules:
  - name: big orders
    when: { types: [ORDER_PLACED], orderTotalAtLeast: '200.00' }
    actions:
      - { platform: meta, type: conversion, event: Purchase, pixelId: '${pixelId}' }
`);
      const executors = connectActionExecutors(sandboxConnections({ meta: meta.origin }), {
        timeoutMs: 5_000,
        maxRetries: 0,
        logger: silentLogger,
      });
      const fast = executors.meta;
      if (!fast) throw new Error('no Meta executor');
      // The slow runner's calls take three leases' time (a platform's Retry-After, a slow batch).
      const slow = {
        run: async (...args: Parameters<typeof fast.run>) => {
          await new Promise((resolve) => setTimeout(resolve, 1_200));
          return fast.run(...args);
        },
        close: async () => undefined,
      };
      const slowRunner = new ActionRunner({
        outbox: await open(prefix, 400),
        executors: { meta: slow },
        rules,
        logger: silentLogger,
        lingerMs: 10,
      });
      const outbox = await open(prefix, 400);
      const other = new ActionRunner({ outbox, executors, rules, logger: silentLogger, recoverEveryMs: 50 });
      await slowRunner.start();
      try {
        expect(
          await slowRunner.accept(
            storedEvent({
              id: `ev-slow-${prefix}`,
              type: 'ORDER_PLACED',
              customer: { email: 'slow@example.com', id: 'crm-slow' },
              properties: { orderId: 9_001, name: '#9001', totalPrice: '300.00', currency: 'EUR' },
            }),
            null,
          ),
        ).toBe(1);
        await eventually(
          () => outbox.list(),
          (list) => list[0]?.status === 'sending',
        );
        await other.start();
        const [done] = await eventually(
          () => outbox.list(),
          (list) => list[0]?.status === 'done',
        );
        // Made once: the other runner's recoveries, every 50 ms, never found its lease run out.
        expect(done).toMatchObject({ status: 'done', attempts: 1 });
      } finally {
        await other.stop();
        await slowRunner.stop();
        await fast.close();
      }
    });

    it('should send what a killed runner had claimed once its lease runs out, counted once at Meta', async () => {
      const prefix = fresh();
      const rules = files.rules(`
rules:
  - name: big orders
    when: { types: [ORDER_PLACED], orderTotalAtLeast: '200.00' }
    actions:
      - { platform: meta, type: conversion, event: Purchase, pixelId: '${pixelId}' }
`);
      const order = (n: number) =>
        storedEvent({
          id: `ev-${n}`,
          type: 'ORDER_PLACED',
          customer: { email: `o${n}@example.com`, id: `crm-${n}` },
          properties: { orderId: 7_000 + n, name: `#${n}`, totalPrice: '300.00', currency: 'EUR' },
        });
      const pixel = async (): Promise<PixelSnapshot> =>
        (
          await fetch(`${meta.origin}/__sandbox/meta/pixels/${pixelId}/events`)
        ).json() as Promise<PixelSnapshot>;
      const before = await pixel();
      // The runner that dies: it accepted 5 orders and claimed them, and never settles (SIGKILL).
      const dying = await open(prefix, 800);
      const executors = connectActionExecutors(sandboxConnections({ meta: meta.origin }), {
        timeoutMs: 5_000,
        maxRetries: 0,
        logger: silentLogger,
      });
      const acceptor = new ActionRunner({ outbox: dying, executors, rules, logger: silentLogger });
      for (let n = 0; n < 5; n++) expect(await acceptor.accept(order(n), null)).toBe(1);
      expect(await dying.claim('meta', 'conversion', 1_000, Date.now())).toHaveLength(5);
      // The survivor, on its own connection, runs with the lease's recovery.
      const outbox = await open(prefix, 800);
      const survivor = new ActionRunner({
        outbox,
        executors,
        rules,
        logger: silentLogger,
        lingerMs: 50,
        recoverEveryMs: 100,
      });
      await survivor.start();
      try {
        // Its own orders, and one the dying runner had accepted too (the event processed twice).
        for (let n = 4; n < 8; n++) await survivor.accept(order(n), null);
        const all = await eventually(
          () => outbox.list(),
          (list) => list.length === 8 && list.every((a) => a.status === 'done'),
        );
        expect(all.map((a) => a.status)).toEqual(Array(8).fill('done'));
        expect(all.filter((a) => a.attempts === 2).map((a) => a.event.id)).toEqual([
          'ev-0',
          'ev-1',
          'ev-2',
          'ev-3',
          'ev-4',
        ]);
        const after = await pixel();
        expect(after.kept - before.kept).toBe(8);
      } finally {
        await survivor.stop();
        for (const executor of Object.values(executors)) await executor.close();
      }
    });
  });
});
