/**
 * The subscribers' endpoints for `npm run bench:deliveries`, in a process of their own so that
 * receiving does not compete with the dispatcher for its event loop. Started with `fork`; says
 * `{ kind: 'ready', urls }` and answers `{ kind: 'report' }` with what each endpoint received.
 *
 * - `healthy-1..5`: 200 at once (the runs use 1..3; the control run `healthy5` all five);
 * - `flaky`: 500 to the first two attempts of every other message (by `webhook-id`), 200
 *   otherwise: half its answers are 500, and every message gets through on its third attempt;
 * - `dead`: accepts the connection and never answers (every attempt times out).
 *
 * For each endpoint it records the first 2xx arrival of each message (`webhook-id`): the event's
 * number `n` (from the payload's properties) and the arrival time in epoch ms, high resolution.
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listen } from '../lib/server/listen.js';

export const RECEIVER_NAMES = [
  'healthy-1',
  'healthy-2',
  'healthy-3',
  'healthy-4',
  'healthy-5',
  'flaky',
  'dead',
] as const;
export type ReceiverName = (typeof RECEIVER_NAMES)[number];

export interface ReceiverReport {
  name: ReceiverName;
  requests: number;
  answered500: number;
  /** Messages answered 2xx (each once). */
  delivered: number;
  /** Messages that arrived with a 2xx more than once (at least once allows it; counted). */
  duplicates: number;
  /** [event number, arrival epoch ms] of each message's first 2xx. */
  arrivals: [number, number][];
}

const nowMs = () => performance.timeOrigin + performance.now();

function receiver(name: ReceiverName) {
  // Message ids differ between runs (fresh endpoints), so the sets need no reset.
  const report: ReceiverReport = {
    name,
    requests: 0,
    answered500: 0,
    delivered: 0,
    duplicates: 0,
    arrivals: [],
  };
  const delivered = new Set<string>();
  const attempts = new Map<string, number>();
  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = nowMs();
      report.requests++;
      if (name === 'dead') {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      const id = String(req.headers['webhook-id']);
      if (name === 'flaky') {
        const seen = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, seen);
        const odd = (createHash('sha1').update(id).digest()[0] ?? 0) % 2 === 1;
        if (odd && seen <= 2) {
          report.answered500++;
          res.writeHead(500).end('try again');
          return;
        }
      }
      res.writeHead(200).end();
      if (delivered.has(id)) {
        report.duplicates++;
        return;
      }
      delivered.add(id);
      report.delivered++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { properties: { n: number } };
      };
      report.arrivals.push([body.data.properties.n, at]);
    });
  });
  return { server, report, held };
}

if (process.send) {
  const all = RECEIVER_NAMES.map(receiver);
  const urls: Record<string, string> = {};
  for (const r of all) {
    // Keep-alive connections from the dispatcher stay open between attempts.
    r.server.keepAliveTimeout = 60_000;
    const listening = await listen(r.server, 0, '127.0.0.1');
    urls[r.report.name] = `${listening.origin}/hooks/${r.report.name}`;
  }
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'progress')
      process.send?.({ kind: 'progress', delivered: all.map((r) => [r.report.name, r.report.delivered]) });
    if (message.kind === 'report') process.send?.({ kind: 'report', reports: all.map((r) => r.report) });
    if (message.kind === 'reset') {
      for (const r of all) {
        Object.assign(r.report, { requests: 0, answered500: 0, delivered: 0, duplicates: 0, arrivals: [] });
        for (const res of r.held) res.destroy();
      }
      process.send?.({ kind: 'reset' });
    }
    if (message.kind === 'exit') process.exit(0);
  });
  process.send({ kind: 'ready', urls });
}
