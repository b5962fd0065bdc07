import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm start` runs the CLI from a prebuilt bundle (scripts/run-built.mjs): it must behave as the
 * TypeScript does under tsx, and be rebuilt when a source file changes, so an edit is never
 * ignored by the next start.
 */

const root = join(import.meta.dirname, '..', '..');
const stampFile = join(root, '.server', 'build.json');

function run(...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/run-built.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const builtDir = () => (JSON.parse(readFileSync(stampFile, 'utf8')) as { dir: string }).dir;

describe('npm start from the prebuilt CLI', () => {
  it('should answer as the CLI does, and fail as it does', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const ok = run('--version');
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe(version);
    expect(existsSync(join(root, '.server', builtDir(), 'main.mjs'))).toBe(true);
    const bad = run('no-such-command');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command "no-such-command"');
  }, 90_000);

  it('should reuse the build while its sources are unchanged and rebuild when one changes', () => {
    run('--version');
    const first = builtDir();
    run('--version');
    expect(builtDir()).toBe(first);
    // A source file the bundle was built from, edited (its modification time is what is compared).
    const source = join(root, 'cli', 'version.ts');
    const now = new Date();
    utimesSync(source, now, now);
    expect(run('--version').status).toBe(0);
    expect(builtDir()).not.toBe(first);
  }, 90_000);

  it('should leave no esbuild process behind once it has built (a gateway would keep it for its life)', () => {
    // Loaded first into the CLI's process: as it exits, counts the processes it still has as children.
    const dir = mkdtempSync(join(tmpdir(), 'run-built-children-'));
    const probe = join(dir, 'children.mjs');
    writeFileSync(
      probe,
      `import { readdirSync, readFileSync } from 'node:fs';
process.on('exit', () => {
  const children = readdirSync('/proc').filter((pid) => {
    try {
      const stat = readFileSync('/proc/' + pid + '/stat', 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
    } catch {
      return false;
    }
  });
  process.stderr.write('children: ' + children.length + '\\n');
});
`,
    );
    try {
      const now = new Date();
      utimesSync(join(root, 'cli', 'version.ts'), now, now);
      const result = spawnSync(process.execPath, ['--import', probe, 'scripts/run-built.mjs', '--version'], {
        cwd: root,
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '' },
        timeout: 60_000,
      });
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('children: 0\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the Node flags of npm start and npm run gateway', () => {
  const scripts = () =>
    (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;

  it('should give both the same V8 flags: 8 MB semi-spaces, old space grown 3x (bench/README.md, Memory)', () => {
    const flagsOf = (script: string) => script.split(/\s+/).filter((arg) => arg.startsWith('--'));
    expect(flagsOf(scripts()['start']!)).toEqual(['--max-semi-space-size=8', '--heap-growing-percent=200']);
    expect(flagsOf(scripts()['gateway']!)).toEqual(flagsOf(scripts()['start']!));
  });

  it('should be what the gateway benchmark runs', async () => {
    const { gatewayScriptArgs } = await import('../../bench/gateways/contenders.js');
    expect(['node', ...gatewayScriptArgs()].join(' ')).toBe(scripts()['gateway']);
  });
});
