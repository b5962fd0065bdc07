import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, type CommandName } from '../../cli/command-names.js';
import { commandHelp } from '../../cli/help.js';
import { AUTH_ENV } from '../../gateway/auth/config.js';
import { GATEWAY_ENV } from '../../gateway/config.js';
import { EVENTS_ENV } from '../../events/config.js';
import { CACHE_ENV } from '../../lib/cache/config.js';
import { CRM_ENV } from '../../subgraphs/crm/index.js';
import { WORKER_ENV } from '../../cli/command-env.js';

/**
 * `<command> --help` on every command: its usage and the variables it reads, exit code 0, and
 * nothing started or validated (a broken environment does not matter, no port is opened).
 */

/** Runs the CLI to its end; a command that starts a server would never end and fail the test's timeout. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    // Everything a real start would trip over: a bad port, a missing supergraph, no gateway key.
    env: { ...process.env, PORT: 'abc', CRM_PORT: 'abc', SUPERGRAPH_FILE: '/nonexistent', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const CASES: [string[], CommandName, string[]][] = [
  [['start', '--help'], 'start', []],
  [['gateway', '--help'], 'gateway', []],
  [['worker', '--help'], 'worker', []],
  [['subgraph', '--help'], 'subgraph', []],
  [['subgraph', 'crm', '--help'], 'subgraph', ['crm']],
  [['sandbox', 'hubspot', '--help'], 'sandbox', ['hubspot']],
  [['sandbox', '-h'], 'sandbox', []],
  [['compose', '--help'], 'compose', []],
  [['clients', '--help'], 'clients', []],
  [['keys', '--help'], 'keys', []],
  [['endpoints', '--help'], 'endpoints', []],
  [['sync', '--help'], 'sync', []],
  [['review', '--help'], 'review', []],
  [['help', 'gateway'], 'gateway', []],
];

describe('--help and --version', () => {
  it('should have a case for every command', () => {
    expect([...new Set(CASES.map(([, command]) => command))].sort()).toEqual([...COMMANDS].sort());
  });

  it.each(CASES)(
    '%j should print its usage and the variables it reads, start nothing and exit 0',
    async (args, command, rest) => {
      const { code, stdout, stderr } = await cli(args);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const help = commandHelp(command, rest);
      expect(stdout.split('\n')[0]).toBe(`Usage: marketing-graph ${help.usage}`);
      const listed = [...stdout.matchAll(/^ {2}([A-Z][A-Z0-9_]*)[ ,]/gm)].map((m) => m[1]);
      expect(listed).toEqual(help.variables);
    },
  );

  it('should list what each command really loads', () => {
    const of = (command: CommandName, rest: string[] = []) => commandHelp(command, rest).variables;
    for (const name of [...GATEWAY_ENV, ...AUTH_ENV, ...EVENTS_ENV, ...CACHE_ENV, 'LOG_LEVEL'])
      expect(of('gateway')).toContain(name);
    for (const name of [...AUTH_ENV, ...EVENTS_ENV, ...CACHE_ENV, 'SANDBOX_WEBHOOKS_PER_MINUTE'])
      expect(of('start')).toContain(name);
    expect(of('subgraph', ['crm'])).toEqual(expect.arrayContaining([...CRM_ENV, 'HOST', ...CACHE_ENV]));
    expect(of('subgraph', ['crm'])).not.toContain('MAILCHIMP_API_KEY');
    expect(of('sandbox', ['hubspot'])).toContain('HUBSPOT_SANDBOX_PORT');
    expect(of('sandbox', ['hubspot'])).not.toContain('META_SANDBOX_PORT');
    expect(of('clients')).toEqual(['CLIENTS_FILE']);
    expect(of('worker')).toEqual(expect.arrayContaining([...WORKER_ENV, 'LOG_LEVEL']));
    // A worker takes no webhooks: no webhook secret reaches it.
    expect(of('worker').filter((name) => name.endsWith('_WEBHOOK_SECRETS'))).toEqual([]);
  });

  it('should say which variables are required, with what they accept', async () => {
    const { stdout } = await cli(['gateway', '--help']);
    expect(stdout).toMatch(
      /^ {2}GATEWAY_TOKEN_PRIVATE_JWK, or GATEWAY_TOKEN_PRIVATE_JWK_FILE {3}\(required; a private Ed25519 JWK \(JSON with a kid\)\)$/m,
    );
    expect(stdout).toMatch(/^ {2}PORT {3}\(default 4000; /m);
  });

  it('should print the version of package.json for --version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const { code, stdout } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it('should still refuse an unknown command asked for help, with exit code 2', async () => {
    const { code, stderr } = await cli(['billing', '--help']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "billing"');
  });
});
