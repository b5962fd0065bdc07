import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { startTestStack } from '../helpers/stack.js';
import { tempDir } from '../syncs/harness.js';

/**
 * The README's "Batch syncs" commands work as typed against a running stack, and a dry run prints
 * what the README shows (its numbers, emails and records aside, which depend on the day and data).
 */

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf('\n## Batch syncs\n');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split('\n'))
  .map((line) => line.trim())
  .filter((line) => line.startsWith('npx tsx cli/main.ts sync '));
const sample = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

/** The sample as a pattern: numbers may differ, and so may the sampled records. */
function patternOf(text: string): RegExp {
  const lines = text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const sampled = /^ {2}sample (insert|update|remove) /.exec(line);
      if (sampled) return `  sample ${sampled[1]} \\S+ \\{.*\\}`;
      return line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '\\d+');
    });
  return new RegExp(`^${lines.join('\\n')}\\n$`);
}

describe('the README on batch syncs', () => {
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  const run = (line: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const args = line.replace(/^npx tsx /, '').split(/\s+/);
      const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
        env: {
          PATH: process.env['PATH'] ?? '',
          NODE_ENV: 'development',
          LOG_LEVEL: 'warn',
          DATA_DIR: tmp.dir,
          SYNC_GATEWAY_URL: stack.gatewayUrl,
          ...Object.fromEntries(
            PLATFORMS.map((p) => [p.sandbox.portVariable, new URL(stack.origins[p.name]).port]),
          ),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    stack = await startTestStack({ customers: 300, responseCache: false, ttlSeconds: 0 });
    tmp = tempDir('syncs-readme-');
  }, 60_000);
  afterAll(async () => {
    await stack.close();
    tmp.remove();
  });

  it('should show commands for list, a dry run, a run and a full run', () => {
    expect(commands.map((c) => c.split(/\s+/).slice(4, 5)[0])).toEqual(['list', 'run', 'run', 'run']);
    expect(commands.some((c) => c.endsWith('--dry-run'))).toBe(true);
    expect(commands.some((c) => c.endsWith('--full'))).toBe(true);
  });

  it('should run each command as typed, in order, exiting 0', async () => {
    for (const command of commands) {
      const result = await run(command);
      expect({ command, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
        command,
        code: 0,
        stderr: '',
      });
      if (command.endsWith('--dry-run')) expect(result.stdout).toMatch(patternOf(sample));
      if (command.endsWith(' list')) expect(result.stdout).toMatch(/^NAME +DESTINATION +MODE +SCHEDULE/);
    }
  }, 120_000);
});

/**
 * The README's "Syncs in worker processes": the variables it names exist with the defaults it
 * says, and the tests it cites exist and do what it says they do.
 */
describe('the README on syncs in worker processes', () => {
  const from = readme.indexOf('\n### Syncs in worker processes\n');
  const part = readme.slice(from, readme.indexOf('\n## ', from + 1));

  it('should name the variables with their defaults', async () => {
    const { catalog } = await import('../../platforms/catalog.js');
    expect(from).toBeGreaterThan(0);
    expect(part).toContain('`WORKER_SYNCS=on`');
    expect(catalog.WORKER_SYNCS.default).toBe('off');
    expect(part).toContain('(`SYNC_LOCK_MS`, 30 s)');
    expect(catalog.SYNC_LOCK_MS.default).toBe('30000');
    expect(part).toContain('`SYNC_MIN_INTERVAL_MS` shortens the one-minute minimum');
    expect(catalog.SYNC_MIN_INTERVAL_MS.default).toBe('60000');
    expect(part).toContain('`<EVENT_LOG_PREFIX>:syncs`');
    expect(readFileSync('cli/worker-syncs.ts', 'utf8')).toContain('`${env.EVENT_LOG_PREFIX}:syncs`');
  });

  it('should cite tests that exist and do what it says', () => {
    const distributed = readFileSync('test/e2e/syncs-distributed.test.ts', 'utf8');
    expect(part).toContain('`test/e2e/syncs-distributed.test.ts` starts two `worker` processes');
    expect(distributed).toContain('startWorker(prefix, file), startWorker(prefix, file)');
    expect(part).toContain('with a 2 s interval');
    expect(distributed).toContain('const EVERY_MS = 2_000;');
    expect(distributed).toContain("child.kill('SIGKILL')");
    const parity = readFileSync('test/syncs/redis-state.test.ts', 'utf8');
    expect(part).toContain('`test/syncs/redis-state.test.ts`');
    expect(parity).toContain('expect(actual).toEqual(expected)');
    expect(readFileSync('syncs/state-port.ts', 'utf8')).toContain('export interface SyncState');
  });

  it('should describe the dry run in the graph as the schema declares it', () => {
    const schema = readFileSync('schema/events.graphql', 'utf8');
    expect(section).toContain('`runSync(name, dryRun: true)`');
    expect(schema).toMatch(/dryRun: Boolean! = false\n\s*\): SyncRun!/);
    expect(schema).toContain('  DRY_RUN\n');
    expect(schema).toContain('preview: SyncRunPreview');
  });
});
