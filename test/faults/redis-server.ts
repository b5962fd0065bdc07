import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../helpers/ports.js';

/**
 * A redis-server of the test's own, on a free port, that the test may kill and start again (never
 * the shared one on 6379). Started without persistence unless `args` say otherwise, so a restart
 * comes back empty, as a Redis without AOF does after a crash.
 */
export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILLs the server and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, with the same arguments. */
  restart(): Promise<void>;
  /** The server's output so far, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'];

/** True once the server answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => undefined);
  });
}

export async function startOwnRedis(args: readonly string[] = NO_PERSISTENCE): Promise<OwnRedis> {
  const [port] = await freePorts(1);
  const dir = mkdtempSync(join(tmpdir(), 'own-redis-'));
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-10_000);
    };
    started.stdout?.on('data', collect);
    started.stderr?.on('data', collect);
    const deadline = Date.now() + 10_000;
    while (!(await ping(port ?? 0))) {
      if (started.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer in 10 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port: port ?? 0,
    kill,
    restart: start,
    output: () => output,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
