import { spawn } from 'node:child_process';
import { chownSync } from 'node:fs';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { freePorts } from '../helpers/ports.js';

/**
 * The user a test runs the gateway as, when "not writable" must mean something: root may write
 * anywhere, whatever the mode bits say, so a test running as root starts the gateway as `nobody`
 * (as a deployment runs it: unprivileged), and then chmod means what it means for everyone else.
 */
export const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, name: 'nobody' } : undefined;

/** Gives `paths` to the user the gateway runs as (a no-op unless the test runs as root). */
export function ownedByGateway(...paths: string[]): void {
  if (!UNPRIVILEGED) return;
  for (const path of paths) chownSync(path, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
}

/** The environment `cli/main.ts gateway` needs, on a free port, in front of nothing in particular. */
export async function gatewayEnv(env: Record<string, string>): Promise<Record<string, string>> {
  const [port] = await freePorts(1);
  return {
    PATH: process.env['PATH'] ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify((await generateGatewayKeys()).privateJwk),
    ...env,
  };
}

/**
 * Runs the real command line until it exits (killed after 60 s: a start-up that should have been
 * refused and was not). Resolves with its exit code and output.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  options: { unprivileged?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const user = options.unprivileged ? UNPRIVILEGED : undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
