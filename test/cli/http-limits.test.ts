import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config/env.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { eventually, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { freePorts } from '../helpers/ports.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { subscribeSse, subscribeWs } from '../helpers/subscriptions.js';

/**
 * Slow clients against real processes and real sockets: a client that sends complete headers and
 * then trickles its body (or trickles its headers) is answered 408 and disconnected once
 * HTTP_REQUEST_TIMEOUT_MS (HTTP_HEADERS_TIMEOUT_MS) has passed, and a server holds at most
 * HTTP_MAX_CONNECTIONS connections.
 */

const LIMITS = {
  HTTP_REQUEST_TIMEOUT_MS: '1000',
  HTTP_HEADERS_TIMEOUT_MS: '500',
  HTTP_MAX_CONNECTIONS: '8',
};
/** One byte per tick: 100 ticks are 5 s, five times the request timeout and its checking interval. */
const TICK_MS = 50;
const BOUND_BYTES = 100;

interface Trickled {
  /** What the server sent before the connection ended. */
  received: string;
  /** Bytes trickled before the server ended the connection. */
  trickled: number;
}

/**
 * Sends `head` at once, then one byte of `drip` every TICK_MS until the server ends the
 * connection (or `drip` runs out, which no test lets happen: it is far longer than the bound).
 */
function trickle(port: number, head: string, drip: string): Promise<Trickled> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let trickled = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (trickled >= drip.length || socket.destroyed) return;
        socket.write(drip[trickled] ?? 'a');
        trickled++;
      }, TICK_MS);
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    // A reset counts as closed too.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, trickled });
    });
  });
}

const slowBody = (path: string) =>
  [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    'Content-Length: 100000',
    '',
    '{"query":"',
  ].join('\r\n');

const slowHeaders = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
const headerDrip = 'X-Slow: a\r\n'.repeat(1000);

let gateway: GatewayProcess;
let key: string;
let sandbox: { child: ChildProcess; port: number };

beforeAll(async () => {
  const registry = writeTestRegistry([{ id: 'etl', scopes: ['crm:read', 'events:read', 'metrics:read'] }]);
  key = registry.keys['etl']?.[0] ?? '';
  const [sandboxPort = 0] = await freePorts(1);
  // A second kind of part, so the limits are shown to reach every server, not the gateway alone.
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'sandbox', 'hubspot'], {
    env: {
      ...process.env,
      ...LIMITS,
      LOG_LEVEL: 'warn',
      HUBSPOT_SANDBOX_PORT: String(sandboxPort),
      SANDBOX_CUSTOMERS: '20',
    },
    stdio: 'ignore',
  });
  sandbox = { child, port: sandboxPort };
  gateway = await startGatewayProcess({
    clientsFile: registry.clientsFile,
    readyKey: key,
    env: LIMITS,
  });
  const up = await eventually(
    () =>
      fetch(`http://127.0.0.1:${sandboxPort}/nothing`, { headers: { connection: 'close' } }).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s !== 0,
    300,
  );
  expect(up, 'the sandbox answers').not.toBe(0);
});

afterAll(async () => {
  await gateway?.stop();
  sandbox?.child.kill('SIGTERM');
});

const portOf = (origin: string) => Number(new URL(origin).port);

describe('HTTP limits configuration', () => {
  it('should refuse a headers timeout longer than the request timeout, naming both variables', () => {
    let problems: readonly string[] = [];
    try {
      httpLimitsFromEnv({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS: expected at most HTTP_REQUEST_TIMEOUT_MS (5000), got 6000',
    ]);
  });
});

describe('slow clients', () => {
  it('should answer 408 and close a connection whose body trickles past HTTP_REQUEST_TIMEOUT_MS', async () => {
    const result = await trickle(portOf(gateway.origin), slowBody('/graphql'), 'a'.repeat(100_000));
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.trickled).toBeLessThan(BOUND_BYTES);
  });

  it('should answer 408 and close a connection whose headers trickle past HTTP_HEADERS_TIMEOUT_MS', async () => {
    const result = await trickle(portOf(gateway.origin), slowHeaders('/health'), headerDrip);
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.trickled).toBeLessThan(BOUND_BYTES);
  });

  it('should close a trickling body on the other parts too (a sandbox here)', async () => {
    const result = await trickle(
      sandbox.port,
      slowBody('/crm/v3/objects/contacts/search'),
      'a'.repeat(100_000),
    );
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.trickled).toBeLessThan(BOUND_BYTES);
  });

  it('should hold at most HTTP_MAX_CONNECTIONS connections and close the ones beyond as they arrive', async () => {
    const sockets: Socket[] = [];
    const answers = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const socket = connect(portOf(gateway.origin), '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        return socket;
      }),
    ).then((opened) =>
      Promise.all(
        opened.map(
          (socket) =>
            new Promise<string>((resolve) => {
              let received = '';
              socket.on('data', (chunk: Buffer) => {
                received += chunk.toString('latin1');
                if (received.includes('\r\n\r\n')) resolve(received);
              });
              socket.on('close', () => resolve(received));
              socket.write('GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
            }),
        ),
      ),
    );
    for (const socket of sockets) socket.destroy();
    const answered = answers.filter((a) => a.startsWith('HTTP/1.1 404')).length;
    // The test's own keep-alive connection from start-up may hold one of the eight.
    expect(answered).toBeGreaterThanOrEqual(7);
    expect(answered).toBeLessThanOrEqual(8);
    expect(answers.filter((a) => a === '')).toHaveLength(16 - answered);
    const dropped = await eventually(
      () =>
        fetch(`${gateway.origin}/metrics`, { headers: { authorization: `Bearer ${key}` } })
          .then((r) => r.text())
          .then((text) => Number(/^http_connections_dropped_total (\d+)$/m.exec(text)?.[1] ?? 0))
          .catch(() => 0),
      (count) => count > 0,
    );
    expect(dropped).toBe(16 - answered);
  });

  it('should keep WebSockets and SSE streams open past HTTP_REQUEST_TIMEOUT_MS: it limits receiving a request only', async () => {
    const query = 'subscription { events { type } }';
    const ws = subscribeWs(gateway.origin, { authorization: `Bearer ${key}` }, query);
    const sse = subscribeSse(gateway.origin, { authorization: `Bearer ${key}` }, query);
    await Promise.all([ws.ready, sse.ready]);
    // Three request timeouts, a dozen of the server's checks for late requests.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const subscriber of [ws, sse]) {
      expect(subscriber.received.error).toBeUndefined();
      expect(subscriber.received.completed).toBe(false);
    }
    await Promise.all([ws.close(), sse.close()]);
  });
});
