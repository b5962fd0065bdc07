import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { MAILCHIMP_DEMO } from '../../platforms/mailchimp/demo.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { startTestStack } from '../helpers/stack.js';
import { clearRecorded, recorded, tempDir } from './harness.js';

/**
 * A run killed mid-write (SIGKILL: no handler runs) and started again: the second process resumes
 * after the last batch the first one checkpointed, so no acknowledged batch reaches Mailchimp
 * twice, and the audience ends as one uninterrupted run would leave it.
 */

const SYNC_FILE = `syncs:
  - name: everyone
    source:
      query: |
        query Everyone($first: Int!, $after: String) {
          customers(first: $first, after: $after) {
            edges { node { email firstName } }
            pageInfo { hasNextPage endCursor }
          }
        }
      connection: customers
    key: email
    mapping:
      email: { from: email, as: lowercase }
      FNAME: firstName
    rules:
      email: { required: true, email: true }
    destination:
      type: mailchimp-audience
      options: { tags: [everyone] }
`;

const BATCH = 'POST /3.0/lists/{listId}';
const CUSTOMERS = 1_800;

interface CliRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

describe('a sync run killed mid-write', () => {
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  let env: Record<string, string>;

  /** `sync run everyone` as its own process; `killAfter` SIGKILLs it once that many rows are written. */
  const runCli = (killAfter?: number) => runCliWith(env, killAfter);
  const runCliWith = (runEnv: Record<string, string>, killAfter?: number) =>
    new Promise<CliRun>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'sync', 'run', 'everyone'], {
        env: runEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const done = [...stderr.matchAll(/writing \[[#.]+\] (\d+)\//g)].map((m) => Number(m[1]));
        if (killAfter !== undefined && done.some((n) => n >= killAfter)) child.kill('SIGKILL');
      });
      child.once('exit', (code, signal) => resolve({ stdout, stderr, code, signal }));
    });

  beforeAll(async () => {
    stack = await startTestStack({ customers: CUSTOMERS, responseCache: false, ttlSeconds: 0 });
    tmp = tempDir('syncs-kill-');
    writeFileSync(`${tmp.dir}/syncs.yaml`, SYNC_FILE);
    env = {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SYNCS_FILE: `${tmp.dir}/syncs.yaml`,
      DATA_DIR: tmp.dir,
      SYNC_GATEWAY_URL: stack.gatewayUrl,
      ...Object.fromEntries(
        PLATFORMS.map((p) => [p.sandbox.portVariable, new URL(stack.origins[p.name]).port]),
      ),
    };
    // Each batch takes a while, so the kill lands between two of them, as it would in a long run.
    const faults = await fetch(`${stack.origins.mailchimp}/__sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 400, endpoints: [BATCH] }),
    });
    expect(faults.status).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await stack.close();
    tmp.remove();
  });

  it('should resume after the last acknowledged batch and send none of them again', async () => {
    await clearRecorded(stack.origins.mailchimp);
    const killed = await runCli(500);
    expect(killed.signal).toBe('SIGKILL');
    const beforeResume = await recorded(stack.origins.mailchimp, BATCH);
    const batches = Math.ceil(CUSTOMERS / 500);
    expect(beforeResume.length).toBeGreaterThanOrEqual(1);
    expect(beforeResume.length).toBeLessThan(batches);

    const resumed = await runCli();
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/run 1 (SUCCEEDED|PARTIALLY_FAILED) \(resumed\)/);

    const all = await recorded(stack.origins.mailchimp, BATCH);
    const emails = (r: (typeof all)[number]) =>
      (r.body as { members: { email_address: string }[] }).members.map((m) => m.email_address);
    // The first batch was acknowledged before the kill: its members went out exactly once.
    const acknowledged = emails(all[0] as (typeof all)[number]);
    const counts = new Map<string, number>();
    for (const email of all.flatMap(emails)) counts.set(email, (counts.get(email) ?? 0) + 1);
    for (const email of acknowledged) expect(counts.get(email)).toBe(1);
    // Every customer was sent; at most the one batch in flight at the kill went twice, whole.
    expect(counts.size).toBe(stack.world.customers.length);
    const twice = [...counts].filter(([, n]) => n > 1).map(([email]) => email);
    expect(twice.length === 0 || twice.length === 500).toBe(true);
    expect(all.length).toBe(batches + (twice.length > 0 ? 1 : 0));

    // The state caught up: one more run has nothing to send but what Mailchimp refuses.
    await clearRecorded(stack.origins.mailchimp);
    const after = await runCli();
    const rejected = Number(/rejected\s+(\d+)/.exec(resumed.stdout)?.[1]);
    expect(after.stdout).toMatch(new RegExp(`inserts\\s+${rejected}\\n`));
    expect(after.stdout).toMatch(/updates\s+0\n/);
  }, 180_000);

  it('should write to the platform its variables name in production, never to a sandbox port', async () => {
    const dataDir = `${tmp.dir}/production`;
    mkdirSync(dataDir);
    await clearRecorded(stack.origins.mailchimp);
    const sandboxPortsUnset = Object.fromEntries(
      Object.entries(env).filter(([name]) => !name.endsWith('_SANDBOX_PORT')),
    );
    const run = await runCliWith({
      ...sandboxPortsUnset,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      // Given explicitly, as production asks; the test gateway knows it.
      SYNC_API_KEY: DEMO_API_KEYS['personalization-service'],
      // What an operator sets for the real Mailchimp; the client cannot tell the sandbox from it.
      MAILCHIMP_API_KEY: MAILCHIMP_DEMO.credentials.apiKey,
      MAILCHIMP_LIST_ID: MAILCHIMP_DEMO.credentials.listId,
      MAILCHIMP_BASE_URL: `${stack.origins.mailchimp}/3.0`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/run 1 (SUCCEEDED|PARTIALLY_FAILED)/);
    expect(await recorded(stack.origins.mailchimp, BATCH)).toHaveLength(Math.ceil(CUSTOMERS / 500));

    // The same in production without Mailchimp's variables: the run fails naming the one to set.
    const unconfigured = await runCliWith({
      ...sandboxPortsUnset,
      NODE_ENV: 'production',
      DATA_DIR: `${dataDir}-unset`,
      SYNC_API_KEY: DEMO_API_KEYS['personalization-service'],
    });
    expect(unconfigured.code).not.toBe(0);
    expect(`${unconfigured.stdout}${unconfigured.stderr}`).toContain(
      'MAILCHIMP_API_KEY: required in production',
    );
  }, 120_000);
});
