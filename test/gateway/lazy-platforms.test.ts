import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { onFirstUse } from '../../platforms/kit/lazy.js';

/**
 * The gateway reads every platform's descriptor, but never builds a sandbox, runs an action or
 * writes a sync: that code loads on first use (issue 17, target 2: the gateway's peak RSS). The
 * module graph the `gateway` command loads before it runs anything, as the prebuilt CLI bundles
 * it (scripts/run-built.mjs: esbuild, one chunk per dynamic import), must not hold it.
 */
describe('what the gateway loads of the platforms', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'lazy-platforms-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** Our source files reached from `entry` by static imports only, and the packages they import statically. */
  async function staticGraph(entry: string): Promise<{ files: string[]; packages: Set<string> }> {
    const { metafile } = await build({
      entryPoints: { main: entry },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir,
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const outputs: Metafile['outputs'] = metafile.outputs;
    const start = Object.keys(outputs).find((name) => outputs[name]?.entryPoint === entry);
    const seen = new Set<string>();
    const todo = start ? [start] : [];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      for (const imported of outputs[next]?.imports ?? [])
        if (imported.kind === 'import-statement' && outputs[imported.path]) todo.push(imported.path);
    }
    const files = [...seen].flatMap((name) => Object.keys(outputs[name]?.inputs ?? {}));
    const packages = new Set(
      files.flatMap((file) =>
        (metafile.inputs[file]?.imports ?? [])
          .filter((imported) => imported.external && imported.kind === 'import-statement')
          .map((imported) => imported.path),
      ),
    );
    return { files, packages };
  }

  async function staticallyLoaded(entry: string): Promise<string[]> {
    return (await staticGraph(entry)).files;
  }

  it('should load no sandbox, demo traffic or platform connector with the gateway command', async () => {
    const loaded = await staticallyLoaded('cli/commands/gateway.ts');
    // The registry itself is there: a probe that found nothing would prove nothing.
    expect(loaded).toContain('platforms/registry.ts');
    expect(loaded.filter((file) => /^platforms\/[^/]+\/sandbox\/|^sandboxes\//.test(file))).toEqual([]);
    expect(loaded.filter((file) => /client\/connector\.ts$/.test(file))).toEqual([]);
  });

  it('should load the Redis event log and delivery store only when configured (the default is SQLite)', async () => {
    const loaded = await staticallyLoaded('cli/commands/gateway.ts');
    expect(loaded).toContain('lib/events/log/open.ts');
    expect(loaded.filter((file) => /^(lib\/events\/log|deliveries\/store)\/redis/.test(file))).toEqual([]);
  });

  it("should load the events subgraph's schema and resolvers only when it is first queried", async () => {
    const loaded = await staticallyLoaded('cli/commands/gateway.ts');
    // What mounts it is there; what it mounts is not (cli/events-subgraph.ts: lazyEventsSubgraphFor).
    expect(loaded).toContain('cli/events-subgraph.ts');
    expect(loaded.filter((file) => /^subgraphs\/(events|kit)\//.test(file))).toEqual([]);
  });
  it('should load cron-parser only with the first cron schedule', async () => {
    const { files, packages } = await staticGraph('cli/commands/gateway.ts');
    // The module that parses schedules is there; the parser is required when one is parsed.
    expect(files).toContain('syncs/schedule.ts');
    expect(packages).toContain('graphql');
    expect([...packages].filter((name) => name.startsWith('cron-parser'))).toEqual([]);
  });
});

describe('onFirstUse', () => {
  const resource = () => {
    const made = { count: 0, closed: 0 };
    const value = { close: async () => void made.closed++ };
    return { made, value };
  };

  it('should make the value once for concurrent first calls, and close it once', async () => {
    const { made, value } = resource();
    const lazy = onFirstUse(async () => {
      made.count++;
      return value;
    });
    expect(made.count).toBe(0);
    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    expect(a).toBe(value);
    expect(b).toBe(value);
    expect(made.count).toBe(1);
    await lazy.close();
    expect(made.closed).toBe(1);
  });

  it('should close nothing when never used, and try again after a failed make', async () => {
    const { made, value } = resource();
    let fail = true;
    const lazy = onFirstUse(async () => {
      made.count++;
      if (fail) throw new Error('refused');
      return value;
    });
    await lazy.close();
    expect(made.count).toBe(0);
    await expect(lazy.get()).rejects.toThrow('refused');
    fail = false;
    await expect(lazy.get()).resolves.toBe(value);
    expect(made.count).toBe(2);
  });
});
