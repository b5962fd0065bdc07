import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts } from './ports.js';

export interface CliProcess {
  origin: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * `cli/main.ts <args>` as its own OS process listening on a free port (given in `portVariable`),
 * with only `env` besides PATH, resolved once `healthPath` answers 200; the output so far is in
 * the error when it exits or stays unhealthy for 30 s.
 */
export async function startCliProcess(
  args: readonly string[],
  portVariable: string,
  healthPath: string,
  env: Record<string, string>,
): Promise<CliProcess> {
  const what = args.join(' ');
  const [port] = await freePorts(1);
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      [portVariable]: String(port),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${output}`);
    const status = await fetch(`${origin}${healthPath}`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { origin, child, exited };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not answer ${healthPath} in 30 s:\n${output}`);
}
