import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Stack } from '../../cli/stack.js';
import {
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from '../../bench/gateway-process.js';
import { as } from '../helpers/clients.js';
import { startTestStack } from '../helpers/stack.js';
import { subscribeWs } from '../helpers/subscriptions.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/** Events per second offered while the readers are paused, and how long at most. */
const RATE = 100;
const LONGEST_MS = 60_000;
/**
 * RSS growth allowed over the minute and over its second half. The load alone (no slow reader:
 * 6,000 webhooks stored, processed and streamed) grew the gateway by 47 MB in the first half and
 * 21 MB in the second in a control run; without the bound, the paused readers add about 30 MB/s.
 */
const MAX_GROWTH_MB = 150;
const MAX_SECOND_HALF_GROWTH_MB = 64;

// Fourteen aliases of `properties` make each event a few kilobytes, so the kernel's socket buffers
// (a few MiB on loopback) fill within seconds and the gateway's own buffer is what is tested.
const FAT_ORDERS = `subscription { events(types: [ORDER_PLACED]) { cursor ${Array.from(
  { length: 14 },
  (_, i) => `p${i}: properties`,
).join(' ')} } }`;

/** A long (harmless) `utm_content` makes each event about 50 KB with the aliases above. */
const FAT_LANDING = `/products/rain-shell?utm_source=newsletter&utm_content=${'spring-'.repeat(480)}`;

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/** A graphql-ws client that subscribes five times, then stops reading from its socket. */
async function pausedWsReader(origin: string): Promise<{ closed: Promise<number>; resume(): void }> {
  const socket = new WebSocket(`${origin.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: as('admin') })));
    socket.once('error', reject);
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve();
    });
  });
  for (let i = 0; i < 5; i++)
    socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: FAT_ORDERS } }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  socket.pause();
  return { closed, resume: () => socket.resume() };
}

/** An SSE client that opens one stream, then stops reading; resumed, it reads the stream to its end. */
async function pausedSseReader(
  origin: string,
): Promise<{ response: IncomingMessage; text(): Promise<string> }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${origin}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...as('admin') },
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(JSON.stringify({ query: FAT_ORDERS }));
  });
  response.pause();
  return {
    response,
    text: async () => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      await new Promise<void>((resolve) => {
        response.once('end', () => resolve());
        response.once('close', () => resolve());
        response.resume();
      });
      return text;
    },
  };
}

describe('a subscriber that stops reading (gateway as a child process)', () => {
  let stack: Stack;
  let gateway: GatewayProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'slow-subscriber-'));
  beforeAll(async () => {
    stack = await startTestStack();
    gateway = await startGatewayProcess(stack, {
      EVENT_LOG: 'sqlite',
      DATA_DIR: dataDir,
      ROUTING_RULES_FILE: typeOnlyRoutingRules(),
    });
  });
  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await stack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should close a paused graphql-ws reader with 1013 and end a paused SSE stream with SUBSCRIBER_TOO_SLOW, with gateway memory bounded and a reading subscriber served', async () => {
    const pid = gateway.child.pid!;
    const reading = subscribeWs<{ events: { cursor: string } }>(
      gateway.origin,
      as('admin'),
      'subscription { events(types: [ORDER_PLACED]) { cursor } }',
    );
    await reading.ready;
    const ws = await pausedWsReader(gateway.origin);
    const sse = await pausedSseReader(gateway.origin);

    const baseline = rssMb(pid);
    let peak = baseline;
    let firstHalfPeak = baseline;
    let sent = 0;
    let wsResumed = false;
    let sseText: Promise<string> | undefined;
    // A minute at RATE orders a second while both slow readers stay paused.
    const started = Date.now();
    while (Date.now() - started < LONGEST_MS) {
      const tick = Date.now();
      const batch = await Promise.all(
        Array.from({ length: RATE / 10 }, () =>
          postWebhook(
            gateway.origin,
            shopifyOrder({ email: 'slow@example.com', totalPrice: '12.00', landingSite: FAT_LANDING }),
          ),
        ),
      );
      expect(batch.map((answer) => answer.status)).toEqual(batch.map(() => 200));
      sent += batch.length;
      const rss = rssMb(pid);
      peak = Math.max(peak, rss);
      if (Date.now() - started < LONGEST_MS / 2) firstHalfPeak = peak;
      // The gateway says when it gave up on each; a client that reads again then learns why.
      if (!wsResumed && gateway.output().includes('closing a WebSocket whose client stopped reading')) {
        wsResumed = true;
        ws.resume();
      }
      if (!sseText && gateway.output().includes('ending an SSE stream whose client stopped reading'))
        sseText = sse.text();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))));
    }

    expect({ wsResumed, sseEnded: sseText !== undefined }).toEqual({ wsResumed: true, sseEnded: true });
    expect(await ws.closed).toBe(1013);
    const streamed = await sseText!;
    expect(streamed).toContain('SUBSCRIBER_TOO_SLOW');
    expect(streamed).toMatch(/event: complete/);
    const figures = `gateway RSS: ${baseline.toFixed(0)} MB before, +${(firstHalfPeak - baseline).toFixed(1)} MB after 30 s, +${(peak - baseline).toFixed(1)} MB after 60 s`;
    expect(peak - baseline, figures).toBeLessThan(MAX_GROWTH_MB);
    expect(peak - firstHalfPeak, figures).toBeLessThan(MAX_SECOND_HALF_GROWTH_MB);
    // The subscriber that kept reading got every order sent.
    expect((await reading.received.atLeast(sent, 30_000)).length).toBe(sent);
    await reading.close();
  }, 120_000);
});
