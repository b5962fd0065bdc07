import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import type { EventLog } from '../../lib/events/log/types.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import { silentLogger } from '../helpers/context.js';
import { eventually } from '../helpers/gateway-process.js';
import { incomingEvent } from '../events/log-contract.js';
import { harness, processedEvent } from './harness.js';

/** Appends and processes `count` events through the real log, as the pipeline does. */
async function processEvents(log: EventLog, count: number): Promise<string[]> {
  const { stored } = await log.append(
    Array.from({ length: count }, () => incomingEvent({ type: 'ORDER_PLACED' })),
  );
  for (const event of stored) await log.complete(event.id, { channels: ['all-orders'] });
  return stored.map((event) => event.id);
}

describe('deliveries fed by the event log', () => {
  it('should enqueue every processed event once, from where it stopped, across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
    const file = join(dir, 'events.db');
    const log = openSqliteEventLog({ file, logger: silentLogger });
    onTestFinished(async () => {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // Processed before deliveries ever started: history is not sent to endpoints.
    await processEvents(log, 2);
    const h = await harness({ file, follow: log });
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const first = await processEvents(log, 3);
    await eventually(
      async () => receiver.received.length,
      (n) => n >= 3,
    );
    // Stopped mid-attempt, a message would be sent again after the restart (at least once); this
    // test is about the follower's place, so the last attempt is let finish first.
    await h.deliveries.dispatcher.settled();
    // Events processed while the deliveries are down are picked up from the stored place.
    await h.deliveries.stop();
    const second = await processEvents(log, 2);
    const restarted = await h.restart();
    await eventually(
      async () => receiver.received.length,
      (n) => n >= 5,
    );
    await restarted.follower?.caughtUp();
    await restarted.dispatcher.settled();
    // The ids carry each event's processing time, as the log holds it.
    const processedAt = new Map(
      (await log.read(undefined, 100)).map((event) => [event.id, event.processedAt]),
    );
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(
      [...first, ...second].map((id) =>
        messageIdFor(endpoint.id, { id, processedAt: processedAt.get(id) ?? '' }),
      ),
    );
    expect(await h.store.followerCursor()).toBe(await log.latestCursor());
  });

  it('should send again, after a restart, what was in flight when the dispatcher stopped', async () => {
    const h = await harness();
    let hold = true;
    const receiver = await h.receiver(() => (hold ? 'hold' : { status: 200 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const event = processedEvent(h.clock);
    await h.deliveries.enqueueForEvent(event);
    await receiver.waitFor(1);
    hold = false;
    const restarted = await h.restart();
    await restarted.dispatcher.settled();
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([
      messageIdFor(endpoint.id, event),
      messageIdFor(endpoint.id, event),
    ]);
    // The stopped attempt is not recorded: it never got an answer.
    expect(await restarted.service.attempts({ endpointId: endpoint.id, limit: 5 })).toEqual([
      expect.objectContaining({ statusCode: 200 }),
    ]);
    expect(await restarted.service.message(messageIdFor(endpoint.id, event))).toMatchObject({
      status: 'succeeded',
      attempts: 1,
    });
  });
});
