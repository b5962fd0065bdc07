import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { table } from '../harness.js';

/**
 * `tsx bench/gateways/profile-summary.ts <file.cpuprofile> [top] [skip-seconds]`: where a `node --cpu-prof`
 * profile spent its time, as self time per function and per package (node_modules/<package>, the
 * project's own folders, Node internals), so a profile of the gateway under load reads in a terminal.
 */

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

function packageOf(url: string): string {
  if (url === '') return '(native/gc/idle)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const project = /\/(gateway|lib|cli|bench|subgraphs)\/(.*)$/.exec(url);
  return project ? `${project[1]}/${project[2]}` : url;
}

/** `skipSeconds`: leave out the start (module loading, warm-up) to see the steady state. */
export function summariseProfile(text: string, top = 30, skipSeconds = 0): string {
  const profile = profileSchema.parse(JSON.parse(text));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsedUs += delta;
    if (elapsedUs >= skipSeconds * 1e6) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = packageOf(frame.url);
    const name = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const pkg = where.includes('/') && !where.startsWith('@') ? (where.split('/')[0] ?? where) : where;
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `total ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    table(
      ['self', 'package / folder'],
      sorted(packages).map(([k, v]) => [pct(v), k]),
    ),
    '',
    table(
      ['self', 'function'],
      sorted(functions).map(([k, v]) => [pct(v), k]),
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, skip] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/gateways/profile-summary.ts <file.cpuprofile> [top] [skip-seconds]');
    process.exit(2);
  }
  console.log(summariseProfile(readFileSync(file, 'utf8'), Number(top ?? 30), Number(skip ?? 0)));
}
