import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { freePorts } from './ports.js';

export type LogLine = Record<string, unknown> & { msg?: string };

export interface GatewayProcess {
  child: ChildProcess;
  origin: string;
  /** Every JSON log line written so far. */
  logs(): LogLine[];
  /** Resolves with the first log line (already written or to come) that matches. */
  waitForLog(matches: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `{ __typename }` as the holder of `key`: answered by the gateway alone, no subgraph needed. */
export async function typenameStatus(origin: string, key: string): Promise<number> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Polls `read` every 100 ms until `done` holds (at most `attempts` times); returns the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  attempts = 150,
): Promise<T> {
  let value = await read();
  for (let i = 1; i < attempts && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/**
 * `cli/main.ts gateway` as a child process on a free port, with a fresh caller-token key and its own
 * data directory; subgraph URLs point nowhere, which `{ __typename }` never needs. Resolves once a
 * request with `readyKey` gets 200.
 */
export async function startGatewayProcess(options: {
  clientsFile: string;
  readyKey: string;
  env?: Record<string, string>;
}): Promise<GatewayProcess> {
  const [port] = await freePorts(1);
  const keys = await generateGatewayKeys();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'gateway'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      CLIENTS_FILE: options.clientsFile,
      GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gateway-data-')),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { matches: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.matches(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const origin = `http://127.0.0.1:${port}`;
  const status = await eventually(
    () =>
      child.exitCode === null ? typenameStatus(origin, options.readyKey).catch(() => 0) : Promise.resolve(-1),
    (s) => s === 200 || s === -1,
    300,
  );
  if (status !== 200) {
    child.kill('SIGKILL');
    throw new Error(`the gateway did not start (status ${status}): ${stderr}`);
  }
  return {
    child,
    origin,
    logs: () => [...lines],
    waitForLog: (matches) =>
      new Promise((resolve) => {
        const found = lines.find(matches);
        if (found) resolve(found);
        else waiters.push({ matches, resolve });
      }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
