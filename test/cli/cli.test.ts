import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { as } from '../helpers/clients.js';
import { startPorts } from '../helpers/ports.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('the command line', () => {
  it('should exit with code 2 and name PORT when PORT=abc', async () => {
    const { exited, output } = run(['start'], { PORT: 'abc' });
    expect(await exited).toBe(2);
    expect(output().stderr).toContain(
      'PORT: expected an integer port from 0 to 65535 (0 picks a free port), got "abc"',
    );
  });

  it('should exit with code 2 without echoing a bad secret', async () => {
    const { exited, output } = run(['subgraph', 'crm'], { HUBSPOT_ACCESS_TOKEN: 'tiny', CRM_PORT: '0' });
    expect(await exited).toBe(2);
    expect(output().stderr).toContain(
      'HUBSPOT_ACCESS_TOKEN: expected a secret of at least 8 characters, (value not shown)',
    );
    expect(output().stderr).not.toContain('tiny');
  });

  it('should exit with code 2 on an unknown command or part', async () => {
    const { exited, output } = run(['subgraph', 'billing'], {});
    expect(await exited).toBe(2);
    expect(output().stderr).toContain(
      'unknown subgraph "billing"; expected one of crm, email, commerce, ads',
    );
  });

  it('should start the embedded demo, turn /health 200 and serve a query, then stop on SIGTERM', async () => {
    const { gateway, env: ports } = await startPorts();
    const { child, exited, output } = run(['start'], {
      ...ports,
      SANDBOX_CUSTOMERS: '200',
    });
    const started = Date.now();
    let status = 0;
    while (Date.now() - started < 30_000 && status !== 200) {
      status = await fetch(`http://127.0.0.1:${gateway}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect(output().stdout).toContain(`gateway     http://127.0.0.1:${gateway}/graphql`);
    const response = await fetch(`http://127.0.0.1:${gateway}/graphql`, {
      method: 'POST',
      headers: as('personalization-service', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query: '{ customers(first: 2) { edges { node { id emailSubscription { status } ordersCount } } } }',
      }),
    });
    const body = (await response.json()) as { data: { customers: { edges: unknown[] } } };
    expect(body.data.customers.edges).toHaveLength(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
