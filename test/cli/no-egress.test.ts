import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { as } from '../helpers/clients.js';
import { startPorts } from '../helpers/ports.js';

/**
 * Every process the product starts talks to loopback only in the embedded demo: no call home (as
 * @apollo/gateway's telemetry would make by default), no cloud-metadata probe. Each child runs with
 * test/helpers/egress-hook.ts preloaded, which records any connect or DNS lookup outside loopback.
 */

const HOOK = ['--import', 'tsx', '--import', './test/helpers/egress-hook.ts'];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function spawnHooked(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...HOOK, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

function recorded(file: string): { kind: string; host: string; argv: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { kind: string; host: string; argv: string });
}

describe('outbound connections', () => {
  it('should turn @apollo/gateway telemetry off unless APOLLO_TELEMETRY_DISABLED=false opts in', async () => {
    const seen = async (given: string | undefined) => {
      const env: Record<string, string | undefined> = { ...process.env, APOLLO_TELEMETRY_DISABLED: given };
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          "await import('./lib/config/apollo-telemetry.ts'); process.stdout.write(String(process.env.APOLLO_TELEMETRY_DISABLED))",
        ],
        { env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      await new Promise((resolve) => child.on('exit', resolve));
      return stdout;
    };
    // Unset, Apollo's own "1" spelled otherwise, or a typo: off, in the spelling Apollo checks.
    expect(await Promise.all([undefined, '', 'yes', 'ture'].map(seen))).toEqual([
      'true',
      'true',
      'true',
      'true',
    ]);
    expect(await seen('false')).toBe('false');
  });

  it('should record a connection outside loopback, so an empty record means none was made', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'egress-')), 'egress.jsonl');
    // 192.0.2.1 is TEST-NET-1: never routed, so the attempt goes nowhere.
    const probe = spawnHooked(
      ['-e', "require('node:net').connect(9, '192.0.2.1').on('error', () => {}).destroy()"],
      { EGRESS_LOG: log },
    );
    expect(await probe.exited).toBe(0);
    expect(recorded(log).map((r) => [r.kind, r.host])).toEqual([['connect', '192.0.2.1']]);
  });

  it('should open no connection outside loopback while the embedded demo starts, serves and stops', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'egress-')), 'egress.jsonl');
    const { gateway, env: ports } = await startPorts();
    const { child, exited, stderr } = spawnHooked(['cli/main.ts', 'start'], {
      EGRESS_LOG: log,
      // Whatever the calling shell holds: the product's own default must be what keeps it quiet.
      APOLLO_TELEMETRY_DISABLED: '',
      ...ports,
      SANDBOX_CUSTOMERS: '100',
      SANDBOX_WEBHOOKS_PER_MINUTE: '600',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'egress-data-')),
    });
    let status = 0;
    for (let attempt = 0; attempt < 240 && status !== 200 && child.exitCode === null; attempt++) {
      status = await fetch(`http://127.0.0.1:${gateway}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status, stderr()).toBe(200);
    // A query across every subgraph, so each part makes its upstream calls.
    const response = await fetch(`http://127.0.0.1:${gateway}/graphql`, {
      method: 'POST',
      headers: as('personalization-service', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query:
          '{ customers(first: 3) { edges { node { id email lifecycleStage emailSubscription { status } ordersCount lifetimeValue { amount } } } } }',
      }),
    });
    expect(response.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(recorded(log)).toEqual([]);
  });
});
