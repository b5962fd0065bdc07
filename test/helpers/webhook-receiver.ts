import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { listen } from '../../lib/server/listen.js';

/** One request a receiver got. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How a receiver answers: a status (with headers and a body), or `hold` to never answer. */
export type ReceiverAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hold';

/**
 * A subscriber's endpoint, for real: an HTTP server on a free local port that records every
 * request and answers as `answer` says (200 by default). Held requests stay open until `close`.
 */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks`. */
  url: string;
  origin: string;
  received: ReceivedWebhook[];
  /** Decides each answer; replace it at any time. */
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer;
  /** Requests held open now. */
  held(): number;
  /** Resolves once `count` requests have arrived in all. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(
  answer: WebhookReceiver['answer'] = () => ({ status: 200 }),
): Promise<WebhookReceiver> {
  const held = new Set<ServerResponse>();
  let waiters: { count: number; resolve: () => void }[] = [];
  const receiver: Omit<WebhookReceiver, 'url' | 'origin' | 'close'> = {
    received: [],
    answer,
    held: () => held.size,
    waitFor(count) {
      if (receiver.received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = receiver.received.push(request) - 1;
      const reply = receiver.answer(request, index);
      if (reply === 'hold') {
        held.add(res);
        res.on('close', () => held.delete(res));
      } else {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      }
      const ready = waiters.filter((w) => receiver.received.length >= w.count);
      waiters = waiters.filter((w) => !ready.includes(w));
      for (const waiter of ready) waiter.resolve();
    });
  });
  const listening = await listen(server, 0, '127.0.0.1');
  return {
    ...receiver,
    get answer() {
      return receiver.answer;
    },
    set answer(fn) {
      receiver.answer = fn;
    },
    url: `${listening.origin}/hooks`,
    origin: listening.origin,
    close: () => {
      server.closeAllConnections();
      return listening.close();
    },
  };
}
