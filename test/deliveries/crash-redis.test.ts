import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from '@keyv/redis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import { newEndpointSecret } from '../../deliveries/secrets.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { redisStorage } from './redis-storage.js';
import { endpointRecord } from './store-contract.js';

const MESSAGES = 600;
const KILL_AFTER = 150;
/** Short enough for a quick test, longer than an attempt (the lease must outlast one). */
const CONFIG = {
  claimLeaseMs: 3_000,
  attemptTimeoutMs: 1_000,
  retryScheduleMs: [0, 200, 500, 1_000, 1_000, 1_000, 1_000, 1_000],
};

/** A worker process on the shared store; resolves with it and its dispatcher's claim owner once it sends. */
async function worker(url: string, prefix: string): Promise<{ child: ChildProcess; owner: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/deliveries/dispatcher-process.ts'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DELIVERIES_REDIS_URL: url,
      DELIVERIES_PREFIX: prefix,
      DELIVERIES_CONFIG: JSON.stringify(CONFIG),
      NODE_ENV: 'test',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => void child.kill('SIGKILL'));
  const owner = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /ready (\S+)\n/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
  return { child, owner };
}

describe.runIf(REDIS_URL)(redisSuite('webhook deliveries: two workers on Redis, one SIGKILLed'), () => {
  const url = REDIS_URL ?? '';

  it('should deliver every message at least once when a worker dies mid-burst, the survivor taking over its claims after the lease, none succeeded without a 2xx', async () => {
    const storage = redisStorage(url);
    const setup = await storage.open();
    const raw = createClient({ url });
    await raw.connect();
    onTestFinished(async () => {
      await raw.close();
      await setup.close();
      await storage.dispose();
    });

    // Every seventh request is held open while the burst runs: each worker dies or lives with
    // attempts in flight. After the kill everything is answered.
    let holding = true;
    const receiver = await startReceiver((_request, index) =>
      holding && index % 7 === 3 ? 'hold' : { status: 200 },
    );
    onTestFinished(() => receiver.close());
    const endpoint = endpointRecord({ url: receiver.url, createdAtMs: Date.now() });
    await setup.createEndpoint(endpoint, {
      id: 'sec_crash',
      endpointId: endpoint.id,
      sealed: `plain:${newEndpointSecret()}`,
      createdAtMs: Date.now(),
      expiresAtMs: null,
    });
    const ids = Array.from({ length: MESSAGES }, (_, i) =>
      messageIdFor(endpoint.id, { id: `burst-${i}`, processedAt: new Date().toISOString() }),
    );
    await setup.enqueue(
      ids.map((id, i) => ({
        id,
        endpointId: endpoint.id,
        eventId: `burst-${i}`,
        eventType: 'ORDER_PLACED',
        body: JSON.stringify({ n: i }),
        createdAtMs: Date.now(),
      })),
    );

    const [victim, survivor] = await Promise.all([worker(url, storage.prefix), worker(url, storage.prefix)]);
    expect(victim.owner).not.toBe(survivor.owner);
    await eventually(
      async () => receiver.received.length,
      (count) => count >= KILL_AFTER,
      300,
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      victim.child.once('exit', (_code, signal) => resolve(signal)),
    );
    victim.child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAtMs = Date.now();
    holding = false;

    // What the victim held when it died: claimed in Redis, under its name, not settled.
    const claims = await raw.zRange(`{${storage.prefix}}:claims:${endpoint.id}`, 0, -1);
    const orphaned: string[] = [];
    for (const id of claims)
      if ((await raw.hGet(`{${storage.prefix}}:m:${id}`, 'owner')) === victim.owner) orphaned.push(id);
    expect(orphaned.length).toBeGreaterThan(0);
    expect(receiver.received.length).toBeLessThan(MESSAGES);

    const pending = await eventually(
      async () => (await setup.stats()).pending,
      (count) => count === 0,
      300,
    );
    expect(pending).toBe(0);

    // At least once: every message reached the receiver, and every one is succeeded.
    const received = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));
    expect(ids.filter((id) => !received.has(id))).toEqual([]);
    for (const id of ids) {
      const message = await setup.message(id);
      expect(message?.status).toBe('succeeded');
      // Succeeded only from a 2xx: the attempt that settled it got one.
      const attempts = await setup.attempts({ messageId: id, limit: 20 });
      expect(attempts[0]?.statusCode).toBe(200);
      expect(attempts.filter((a) => a.statusCode === 200)).toHaveLength(1);
    }
    // The victim's claims were finished by the survivor, after the lease ran out.
    for (const id of orphaned) {
      const [last] = await setup.attempts({ messageId: id, limit: 1 });
      expect(last?.attemptedAtMs ?? 0).toBeGreaterThanOrEqual(killedAtMs);
    }
  });
});
