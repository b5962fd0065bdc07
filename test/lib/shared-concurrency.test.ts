import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamCall, UpstreamThrottle } from '../../lib/upstream/client.js';
import { SharedBudgets } from '../../lib/upstream/shared-budget.js';
import { ConcurrencyPolicy, QueuedThrottle } from '../../lib/upstream/throttle.js';
import { REDIS_URL, redisSuite, testRedisClients } from '../helpers/redis.js';

/**
 * A concurrency cap (Mailchimp's connections, Twilio's concurrent requests) held by two processes:
 * each has its own throttle allowing itself the whole cap and its own Redis connection. A real
 * HTTP server counts the requests in flight: with the shared cap they never pass it together;
 * without, they reach twice it. A process killed while holding slots gives them back when their
 * leases end.
 */

const CAP = 4;
const CALLS_EACH = 24;

const call = (): UpstreamCall =>
  ({ method: 'GET', endpoint: 'GET /slow', path: '/slow' }) as unknown as UpstreamCall;

const localThrottle = () => new QueuedThrottle({ platform: 'mailchimp', policy: new ConcurrencyPolicy(CAP) });

describe.runIf(REDIS_URL)(redisSuite('a concurrency cap shared by two processes'), () => {
  const prefix = `test-slots-${process.pid}-${Date.now()}`;
  let server: Server;
  let origin: string;
  let inFlight = 0;
  let most = 0;

  const { connect, close } = testRedisClients(prefix, { disableOfflineQueue: true });

  beforeAll(async () => {
    server = createServer((_request, response) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        response.end('ok');
      }, 30);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** `CALLS_EACH` requests to the server through each throttle at once; answers the most in flight. */
  async function mostInFlight(throttles: readonly UpstreamThrottle[]): Promise<number> {
    most = 0;
    let answered = 0;
    await Promise.all(
      throttles.flatMap((throttle) =>
        Array.from({ length: CALLS_EACH }, async () => {
          const c = call();
          await throttle.acquire(c, Date.now() + 20_000);
          try {
            const response = await fetch(`${origin}/slow`);
            if ((await response.text()) === 'ok') answered += 1;
          } finally {
            throttle.release(c, undefined);
          }
        }),
      ),
    );
    expect(answered).toBe(throttles.length * CALLS_EACH);
    return most;
  }

  it('without sharing, two processes together have twice the cap in flight', async () => {
    expect(await mostInFlight([localThrottle(), localThrottle()])).toBeGreaterThan(CAP);
  }, 30_000);

  it('with sharing, never more than the cap in flight across both processes', async () => {
    const account = `account-${Date.now()}`;
    const limit = { name: 'connections', concurrent: CAP };
    const observer = await connect();
    const throttles = [
      new SharedBudgets({ client: await connect(), prefix }).wrap(
        localThrottle(),
        'mailchimp',
        account,
        limit,
      ),
      new SharedBudgets({ client: await connect(), prefix }).wrap(
        localThrottle(),
        'mailchimp',
        account,
        limit,
      ),
    ];
    const seen = await mostInFlight(throttles);
    expect(seen).toBeLessThanOrEqual(CAP);
    expect(seen).toBeGreaterThan(1);
    // Every slot was given back.
    expect(await observer.zCard(`${prefix}:slots:${account}:connections:${CAP}`)).toBe(0);
  }, 30_000);

  it("frees a killed process's slots once their leases end", async () => {
    const account = `account-killed-${Date.now()}`;
    const key = `${prefix}:slots:${account}:connections:${CAP}`;
    const leaseMs = 1_000;
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/hold-slots.ts', key, String(CAP), String(leaseMs)],
      {
        env: { PATH: process.env['PATH'] ?? '', REDIS_URL: REDIS_URL ?? '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = once(holder, 'exit');
    try {
      const [chunk] = (await once(holder.stdout, 'data')) as [Buffer];
      expect(chunk.toString()).toContain('held');
      const shared = new SharedBudgets({ client: await connect(), prefix, leaseMs });
      const throttle = shared.wrap(localThrottle(), 'mailchimp', account, {
        name: 'connections',
        concurrent: CAP,
      });
      // Held (and renewed) by a live process: no slot for this one, well past a lease.
      await expect(throttle.acquire(call(), Date.now() + 2 * leaseMs + 250)).rejects.toMatchObject({
        details: { code: 'UPSTREAM_RATE_LIMITED', upstreamCode: 'CLIENT_THROTTLE' },
      });
      holder.kill('SIGKILL');
      await exited;
      // Killed: its slots lapse with their leases, and this process gets one.
      const c = call();
      await expect(throttle.acquire(c, Date.now() + 5 * leaseMs)).resolves.toBeUndefined();
      throttle.release(c, undefined);
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    }
  }, 30_000);
});
