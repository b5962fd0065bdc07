import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import { newEndpointSecret } from '../../deliveries/secrets.js';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import { eventually } from '../helpers/gateway-process.js';
import { endpointRecord } from './store-contract.js';
import { harness } from './harness.js';

const MESSAGES = 20;
const ANSWERED_BEFORE_KILL = 10;

describe('webhook deliveries: crash safety', () => {
  it('should deliver every message at least once after a SIGKILL mid-delivery, and mark none succeeded without a 2xx', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-crash-'));
    const file = join(dir, 'events.db');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));

    // The receiver answers the first ten requests and holds the rest open: the victim dies with
    // those in flight.
    const h = await harness({ file });
    let answering = false;
    const receiver = await h.receiver((_request, index) =>
      answering || index < ANSWERED_BEFORE_KILL ? { status: 200 } : 'hold',
    );
    // The endpoint and its messages go in through the store, so this process sends nothing yet.
    await h.deliveries.stop();
    const setup = openDeliveryStore({ kind: 'sqlite', file });
    const endpoint = endpointRecord({ url: receiver.url, createdAtMs: Date.now() });
    await setup.createEndpoint(endpoint, {
      id: 'sec_crash',
      endpointId: endpoint.id,
      sealed: `plain:${newEndpointSecret()}`,
      createdAtMs: Date.now(),
      expiresAtMs: null,
    });
    const ids = Array.from({ length: MESSAGES }, (_, i) =>
      messageIdFor(endpoint.id, { id: `crash-event-${i}`, processedAt: new Date().toISOString() }),
    );
    await setup.enqueue(
      ids.map((id, i) => ({
        id,
        endpointId: endpoint.id,
        eventId: `crash-event-${i}`,
        eventType: 'ORDER_PLACED',
        body: JSON.stringify({ n: i }),
        // Due on the restarted deliveries' manual clock as on the victim's real one (later).
        createdAtMs: h.clock.now(),
      })),
    );

    const victim = spawn(process.execPath, ['--import', 'tsx', 'test/deliveries/dispatcher-process.ts'], {
      env: { PATH: process.env['PATH'] ?? '', DELIVERIES_FILE: file, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      victim.once('exit', (_code, signal) => resolve(signal)),
    );
    onTestFinished(() => void victim.kill('SIGKILL'));
    await eventually(
      async () => receiver.held(),
      (held) => held === MESSAGES - ANSWERED_BEFORE_KILL,
      300,
    );
    expect(receiver.held()).toBe(MESSAGES - ANSWERED_BEFORE_KILL);
    victim.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // What the file says at the moment of death.
    const succeededBefore = new Set<string>();
    for (const id of ids) if ((await setup.message(id))?.status === 'succeeded') succeededBefore.add(id);
    expect(succeededBefore.size).toBeLessThanOrEqual(ANSWERED_BEFORE_KILL);
    const sentBefore = receiver.received.length;

    answering = true;
    const restarted = await h.restart();
    await restarted.dispatcher.settled();

    const sentAfter = new Set(
      receiver.received.slice(sentBefore).map((r) => String(r.headers['webhook-id'])),
    );
    // Everything not confirmed before the kill is sent again; nothing confirmed is.
    expect(sentAfter).toEqual(new Set(ids.filter((id) => !succeededBefore.has(id))));
    for (const id of ids) {
      expect(await setup.message(id)).toMatchObject({ status: 'succeeded' });
      const attempts = await setup.attempts({ messageId: id, limit: 10 });
      expect(attempts.some((attempt) => attempt.statusCode === 200)).toBe(true);
      expect(attempts.every((attempt) => attempt.statusCode === 200)).toBe(true);
    }
    await setup.close();
  });
});
