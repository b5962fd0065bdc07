import { expect, it } from 'vitest';
import type { Endpoint } from '../../deliveries/endpoint.js';
import { messageIdFor, newEndpointId, newSecretId } from '../../deliveries/ids.js';
import type { DeliveryStore, NewMessage, Settlement } from '../../deliveries/store/types.js';

/** Storage on which delivery stores can be opened again, as a process restarting would. */
export interface DeliveryStorage {
  open(): Promise<DeliveryStore>;
  dispose(): Promise<void>;
}

export const T0 = Date.parse('2026-11-28T10:00:00Z');

export function endpointRecord(overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    id: newEndpointId(),
    url: 'https://hooks.example.com/in',
    description: '',
    eventTypes: null,
    channels: null,
    rateLimitPerSecond: null,
    ownerClientId: 'client-a',
    enabled: true,
    disabledReason: null,
    disabledAtMs: null,
    failingSinceMs: null,
    createdAtMs: T0,
    updatedAtMs: T0,
    selection: null,
    ...overrides,
  };
}

const secretFor = (endpointId: string, sealed = 'plain:whsec_a') => ({
  id: newSecretId(),
  endpointId,
  sealed,
  createdAtMs: T0,
  expiresAtMs: null,
});

export function newMessage(endpointId: string, eventId: string, createdAtMs = T0): NewMessage {
  return {
    id: messageIdFor(endpointId, { id: eventId, processedAt: new Date(createdAtMs).toISOString() }),
    endpointId,
    eventId,
    eventType: 'ORDER_PLACED',
    body: JSON.stringify({ eventId }),
    createdAtMs,
  };
}

function settlement(
  message: NewMessage,
  at: number,
  statusCode: number | null,
  verdict: Settlement['verdict'],
): Settlement {
  return {
    messageId: message.id,
    endpointId: message.endpointId,
    verdict,
    attempt: {
      messageId: message.id,
      endpointId: message.endpointId,
      attemptedAtMs: at,
      statusCode,
      latencyMs: 3.5,
      responseBody: statusCode === null ? null : 'ok',
      errorClass: verdict.status === 'succeeded' ? null : statusCode === null ? 'connection' : 'status',
      errorMessage: null,
    },
  };
}

/** What every delivery store must do: run against SQLite and Redis. */
export function deliveryStoreContract(storage: () => Promise<DeliveryStorage>): void {
  async function withStore(
    test: (store: DeliveryStore, reopen: () => Promise<DeliveryStore>) => Promise<void>,
  ) {
    const s = await storage();
    const opened: DeliveryStore[] = [await s.open()];
    try {
      await test(opened[0] as DeliveryStore, async () => {
        const next = await s.open();
        opened.push(next);
        return next;
      });
    } finally {
      for (const store of opened) await store.close();
      await s.dispose();
    }
  }

  it('should keep endpoints with their filters, update only what is given, and list them by owner', () =>
    withStore(async (store) => {
      const a = endpointRecord({ eventTypes: ['ORDER_PLACED'], channels: ['vip'], rateLimitPerSecond: 5 });
      const b = endpointRecord({ ownerClientId: 'client-b', createdAtMs: T0 + 1 });
      await store.createEndpoint(a, secretFor(a.id));
      await store.createEndpoint(b, secretFor(b.id));
      expect(await store.endpoint(a.id)).toEqual(a);
      const updated = await store.updateEndpoint(a.id, { description: 'orders', channels: null }, T0 + 10);
      expect(updated).toEqual({ ...a, description: 'orders', channels: null, updatedAtMs: T0 + 10 });
      expect(await store.endpoint(a.id)).toEqual(updated);
      expect((await store.endpoints()).map((e) => e.id)).toEqual([a.id, b.id]);
      expect((await store.endpoints({ ownerClientId: 'client-b' })).map((e) => e.id)).toEqual([b.id]);
      expect(await store.updateEndpoint('ep_missing', { description: 'x' }, T0)).toBeUndefined();
    }));

  it("should keep an endpoint's selection and change it like any other field", () =>
    withStore(async (store) => {
      const a = endpointRecord({ selection: 'customer { lifecycleStage }' });
      await store.createEndpoint(a, secretFor(a.id));
      expect((await store.endpoint(a.id))?.selection).toBe('customer { lifecycleStage }');
      await store.updateEndpoint(a.id, { selection: null }, T0 + 1);
      expect((await store.endpoint(a.id))?.selection).toBeNull();
    }));

  it('should count changes so other processes can tell their caches are stale, across a reopen', () =>
    withStore(async (store, reopen) => {
      expect(await store.changeVersion()).toBe(0);
      await store.noteChange();
      await store.noteChange();
      expect(await store.changeVersion()).toBe(2);
      const again = await reopen();
      expect(await again.changeVersion()).toBe(2);
      await again.noteChange();
      expect(await store.changeVersion()).toBe(3);
    }));

  it('should enqueue each message once, store the cursor with it, and keep both across a reopen', () =>
    withStore(async (store, reopen) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const first = newMessage(endpoint.id, 'e1');
      expect(await store.enqueue([first, newMessage(endpoint.id, 'e2')], 'cursor-2')).toBe(2);
      expect(await store.enqueue([first, newMessage(endpoint.id, 'e3')], 'cursor-3')).toBe(1);
      const again = await reopen();
      expect(await again.followerCursor()).toBe('cursor-3');
      expect((await again.messages({ endpointId: endpoint.id, limit: 10 })).map((m) => m.eventId)).toEqual([
        'e3',
        'e2',
        'e1',
      ]);
      expect(await again.message(first.id)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptMs: T0,
      });
      expect((await again.message(first.id))?.trace).toBeUndefined();
    }));

  it("should keep a message's trace context, for its attempts' spans", () =>
    withStore(async (store, reopen) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
      const traced = { ...newMessage(endpoint.id, 'traced'), trace };
      expect(await store.enqueue([traced])).toBe(1);
      const again = await reopen();
      expect((await again.message(traced.id))?.trace).toEqual(trace);
      const claimed = await again.claim(endpoint.id, 'one', T0, 10, T0 + 120_000);
      expect(claimed.messages.map((m) => m.trace)).toEqual([trace]);
    }));

  it('should hand a due message to one claim at a time, oldest due first, and say when the next is due', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      await store.enqueue([
        newMessage(endpoint.id, 'late', T0 + 60_000),
        newMessage(endpoint.id, 'a'),
        newMessage(endpoint.id, 'b'),
      ]);
      const first = await store.claim(endpoint.id, 'one', T0, 1, T0 + 120_000);
      expect(first.messages.map((m) => m.eventId)).toEqual(['a']);
      expect(first.nextDueMs).toBe(T0);
      const second = await store.claim(endpoint.id, 'two', T0, 5, T0 + 120_000);
      expect(second.messages.map((m) => m.eventId)).toEqual(['b']);
      expect(second.nextDueMs).toBe(T0 + 60_000);
      expect((await store.claim(endpoint.id, 'three', T0 + 1, 5, T0 + 120_000)).messages).toEqual([]);
      expect(await store.stats()).toEqual({ pending: 3, claimed: 2 });
      expect(await store.dueTimes()).toEqual(new Map([[endpoint.id, T0 + 60_000]]));
      // A process that died holding claims: they are due again once released.
      expect(await store.releaseAllClaims(T0 + 5)).toBe(2);
      expect(
        (await store.claim(endpoint.id, 'four', T0 + 5, 5, T0 + 120_000)).messages.map((m) => m.eventId),
      ).toEqual(['a', 'b']);
    }));

  it('should claim for several endpoints at once, each result as its own claim would give it', () =>
    withStore(async (store) => {
      const busy = endpointRecord();
      const waiting = endpointRecord();
      const empty = endpointRecord();
      for (const endpoint of [busy, waiting, empty])
        await store.createEndpoint(endpoint, secretFor(endpoint.id));
      await store.enqueue([
        newMessage(busy.id, 'a'),
        newMessage(busy.id, 'b'),
        newMessage(busy.id, 'c'),
        newMessage(waiting.id, 'later', T0 + 5_000),
      ]);
      const claims = await store.claimMany(
        [
          { endpointId: busy.id, max: 2 },
          { endpointId: waiting.id, max: 5 },
          { endpointId: empty.id, max: 5 },
        ],
        'pass',
        T0,
        T0 + 120_000,
      );
      expect(claims.map((c) => [c.messages.map((m) => m.eventId), c.nextDueMs])).toEqual([
        [['a', 'b'], T0],
        [[], T0 + 5_000],
        [[], null],
      ]);
      expect(await store.stats()).toEqual({ pending: 4, claimed: 2 });
      // Claimed by the pass: invisible to the next one until settled or released.
      const next = await store.claimMany([{ endpointId: busy.id, max: 5 }], 'pass', T0, T0 + 120_000);
      expect(next.map((c) => c.messages.map((m) => m.eventId))).toEqual([['c']]);
      expect(await store.claimMany([], 'pass', T0, T0 + 120_000)).toEqual([]);
    }));

  it('should record each attempt with its verdict, and track the failing streak until a success', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const message = newMessage(endpoint.id, 'e1');
      await store.enqueue([message]);
      await store.claim(endpoint.id, 'd', T0, 1, T0 + 120_000);
      expect(
        await store.settle(settlement(message, T0, 500, { status: 'pending', nextAttemptMs: T0 + 5_000 })),
      ).toEqual({
        failingSinceMs: T0,
      });
      expect(await store.message(message.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptMs: T0 + 5_000,
        lastStatusCode: 500,
        lastErrorClass: 'status',
      });
      expect((await store.claim(endpoint.id, 'd', T0 + 4_999, 1, T0 + 120_000)).messages).toEqual([]);
      await store.claim(endpoint.id, 'd', T0 + 5_000, 1, T0 + 120_000);
      expect(
        await store.settle(
          settlement(message, T0 + 5_000, null, { status: 'pending', nextAttemptMs: T0 + 300_000 }),
        ),
      ).toEqual({
        failingSinceMs: T0,
      });
      await store.claim(endpoint.id, 'd', T0 + 300_000, 1, T0 + 420_000);
      expect(await store.settle(settlement(message, T0 + 300_000, 204, { status: 'succeeded' }))).toEqual({
        failingSinceMs: null,
      });
      expect(await store.message(message.id)).toMatchObject({
        status: 'succeeded',
        attempts: 3,
        nextAttemptMs: null,
      });
      const attempts = await store.attempts({ messageId: message.id, limit: 10 });
      expect(attempts.map((a) => [a.attemptedAtMs - T0, a.statusCode, a.errorClass])).toEqual([
        [300_000, 204, null],
        [5_000, null, 'connection'],
        [0, 500, 'status'],
      ]);
      expect(
        (await store.attempts({ endpointId: endpoint.id, beforeId: attempts[1]?.id ?? 0, limit: 10 })).length,
      ).toBe(1);
      expect(await store.stats()).toEqual({ pending: 0, claimed: 0 });
    }));

  it('should keep a notice with an exhausted message, and forget it only when told', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const message = newMessage(endpoint.id, 'e1');
      await store.enqueue([message]);
      const notice = {
        dedupeKey: 'k1',
        type: 'WEBHOOK_ATTEMPTS_EXHAUSTED' as const,
        source: 'deliveries',
        occurredAt: new Date(T0).toISOString(),
        receivedAt: new Date(T0).toISOString(),
        customer: null,
        properties: { messageId: message.id },
        personal: null,
      };
      await store.settle({ ...settlement(message, T0, 500, { status: 'exhausted' }), notice });
      expect(await store.message(message.id)).toMatchObject({ status: 'exhausted', attempts: 1 });
      const pending = await store.pendingNotices(10);
      expect(pending.map((n) => n.event)).toEqual([notice]);
      await store.forgetNotices(pending.map((n) => n.id));
      expect(await store.pendingNotices(10)).toEqual([]);
    }));

  it('should fail pending messages when an endpoint is disabled, add new ones as failed, and recover them once enabled', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const before = newMessage(endpoint.id, 'before');
      const done = newMessage(endpoint.id, 'done');
      await store.enqueue([before, done]);
      await store.claim(endpoint.id, 'd', T0, 5, T0 + 1000);
      await store.settle(settlement(done, T0, 200, { status: 'succeeded' }));
      const disabled = await store.disableEndpoint(endpoint.id, 'gone', T0 + 10);
      expect(disabled.changed).toBe(true);
      expect(disabled.endpoint).toMatchObject({
        enabled: false,
        disabledReason: 'gone',
        disabledAtMs: T0 + 10,
      });
      expect((await store.disableEndpoint(endpoint.id, 'failing', T0 + 20)).changed).toBe(false);
      expect(await store.message(before.id)).toMatchObject({
        status: 'failed',
        lastError: 'endpoint-disabled',
      });
      const during = newMessage(endpoint.id, 'during', T0 + 30);
      await store.enqueue([during]);
      expect(await store.message(during.id)).toMatchObject({
        status: 'failed',
        lastError: 'endpoint-disabled',
      });
      expect(await store.enableEndpoint(endpoint.id, T0 + 40)).toMatchObject({
        enabled: true,
        disabledReason: null,
      });
      // Recover from a time: the message before it stays failed, the succeeded one is not resent.
      expect(await store.recoverEndpoint(endpoint.id, T0 + 1, T0 + 50)).toBe(1);
      expect(await store.message(during.id)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptMs: T0 + 50,
      });
      expect(await store.message(before.id)).toMatchObject({ status: 'failed' });
      expect(await store.recoverEndpoint(endpoint.id, T0, T0 + 60)).toBe(1);
      expect(await store.message(done.id)).toMatchObject({ status: 'succeeded' });
    }));

  it('should replay a succeeded message with a fresh schedule, but not one being attempted', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const message = newMessage(endpoint.id, 'e1');
      const busy = newMessage(endpoint.id, 'e2');
      await store.enqueue([message, busy]);
      await store.claim(endpoint.id, 'd', T0, 5, T0 + 1000);
      await store.settle(settlement(message, T0, 200, { status: 'succeeded' }));
      expect(await store.replayMessage(message.id, T0 + 100)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptMs: T0 + 100,
      });
      // Claimed, so left to its attempt: replaying it changes nothing.
      const beforeReplay = await store.message(busy.id);
      expect(beforeReplay?.status).toBe('pending');
      expect(await store.replayMessage(busy.id, T0 + 100)).toEqual(beforeReplay);
      expect(await store.replayMessage('msg_missing', T0)).toBeUndefined();
    }));

  it('should sign with the current secret and a rotated one until it expires', () =>
    withStore(async (store) => {
      const endpoint = endpointRecord();
      const first = secretFor(endpoint.id, 'plain:first');
      await store.createEndpoint(endpoint, first);
      expect((await store.activeSecrets(endpoint.id, T0)).map((s) => s.sealed)).toEqual(['plain:first']);
      const second = { ...secretFor(endpoint.id, 'plain:second'), createdAtMs: T0 + 1 };
      expect(await store.rotateSecret(endpoint.id, second, T0 + 1_000, T0 + 1)).toBe(true);
      expect((await store.activeSecrets(endpoint.id, T0 + 999)).map((s) => s.sealed)).toEqual([
        'plain:second',
        'plain:first',
      ]);
      expect((await store.activeSecrets(endpoint.id, T0 + 1_000)).map((s) => s.sealed)).toEqual([
        'plain:second',
      ]);
      expect(await store.rotateSecret('ep_missing', second, T0, T0)).toBe(false);
    }));

  it('should delete an endpoint with its messages, attempts and secrets, and prune settled messages past retention', () =>
    withStore(async (store) => {
      const kept = endpointRecord();
      const gone = endpointRecord();
      for (const endpoint of [kept, gone]) await store.createEndpoint(endpoint, secretFor(endpoint.id));
      const old = newMessage(kept.id, 'old');
      const fresh = newMessage(kept.id, 'fresh');
      const waiting = newMessage(kept.id, 'waiting');
      await store.enqueue([old, fresh, waiting, newMessage(gone.id, 'x')]);
      await store.claim(kept.id, 'd', T0, 2, T0 + 1000);
      await store.settle(settlement(old, T0, 200, { status: 'succeeded' }));
      await store.settle(settlement(fresh, T0 + 10_000, 200, { status: 'succeeded' }));
      expect(await store.prune(T0 + 5_000)).toBe(1);
      expect(await store.message(old.id)).toBeUndefined();
      expect(await store.attempts({ messageId: old.id, limit: 5 })).toEqual([]);
      expect(await store.message(fresh.id)).toBeDefined();
      expect(await store.message(waiting.id)).toBeDefined();
      expect(await store.deleteEndpoint(gone.id)).toBe(true);
      expect(await store.deleteEndpoint(gone.id)).toBe(false);
      expect(await store.endpoint(gone.id)).toBeUndefined();
      expect(await store.messages({ endpointId: gone.id, limit: 5 })).toEqual([]);
      expect(await store.activeSecrets(gone.id, T0)).toEqual([]);
    }));
}
