import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PLATFORMS } from '../platforms/registry.js';
import type { RecordedRequest } from '../sandboxes/kit/recorder.js';
import { SyncStateStore, type RunRecord } from '../syncs/state.js';
import { tempDir } from '../test/syncs/harness.js';
import { table, verdict } from './harness.js';

/**
 * `npm run bench:sync`: one large audience (SANDBOX_CUSTOMERS, default 20,000; the figure
 * is 100,000) synced to the Mailchimp sandbox through a real gateway: write calls against their
 * lower bound, rows per second and memory on the first run, the second run after 1% of the
 * customers changed, and a run killed half-way (SIGKILL) then resumed.
 *
 * Three kinds of process, so each figure is the one it claims to be: this one drives and checks;
 * the stack (`bench/sync-stack.ts`: sandboxes with their generated worlds, subgraphs, gateway)
 * runs in a child of its own; every sync runs as users run it, `cli/main.ts sync run`, in a
 * child whose memory `bench/memory-probe.ts` reports. The memory target is judged on the sync
 * process alone: its peak RSS over its RSS once the run started (modules loaded, first page
 * read). The stack's RSS is printed beside it, as what the sandboxes cost.
 */

const customers = Number(process.env['SANDBOX_CUSTOMERS'] ?? 20_000);
const BATCH = 'POST /3.0/lists/{listId}';
const MEMORY_TARGET_BYTES = 100e6;
const MB = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
const syncOf = (name: string, tag: string) => ({
  name,
  source: {
    query:
      'query Everyone($first: Int!, $after: String) { customers(first: $first, after: $after) { edges { node { email firstName } } pageInfo { hasNextPage endCursor } } }',
    connection: 'customers',
  },
  key: 'email',
  mapping: { email: { from: 'email', as: 'lowercase' }, FNAME: 'firstName' },
  rules: { email: { required: true, email: true } },
  destination: { type: 'mailchimp-audience', options: { tags: [tag] } },
});

// ── the stack, in its own process ──
interface Ready {
  gatewayUrl: string;
  origins: Record<string, string>;
  apiKey: string;
}
const stackChild: ChildProcess = spawn(
  process.execPath,
  ['--import', 'tsx', resolve(import.meta.dirname, 'sync-stack.ts')],
  {
    env: { ...process.env, SANDBOX_CUSTOMERS: String(customers) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  },
);
const replies = new Map<number, (message: Record<string, unknown>) => void>();
let nextId = 1;
const ready = new Promise<Ready>((resolveReady, reject) => {
  stackChild.once('exit', (code) =>
    reject(new Error(`the stack process exited (${code}) before it was ready`)),
  );
  stackChild.on('message', (message: Record<string, unknown>) => {
    if (message['ready']) resolveReady(message['ready'] as Ready);
    const reply = replies.get(message['id'] as number);
    if (reply) reply(message);
  });
});
const ask = <T>(type: 'change' | 'memory' | 'close') =>
  new Promise<T>((resolveReply) => {
    const id = nextId++;
    replies.set(id, (message) => resolveReply(message as T));
    stackChild.send({ id, type });
  });
const stackRss = async () => (await ask<{ memory: NodeJS.MemoryUsage }>('memory')).memory.rss;

const stack = await ready;
const tmp = tempDir('bench-sync-');
const mailchimp = stack.origins['mailchimp'] as string;
const requests = async (): Promise<RecordedRequest[]> =>
  (
    (await (await fetch(`${mailchimp}/__sandbox/requests?endpoint=${encodeURIComponent(BATCH)}`)).json()) as {
      requests: RecordedRequest[];
    }
  ).requests;
const clear = () => fetch(`${mailchimp}/__sandbox/requests`, { method: 'DELETE' });
const emailsOf = (r: RecordedRequest) =>
  (r.body as { members: { email_address: string }[] }).members.map((m) => m.email_address);

writeFileSync(
  `${tmp.dir}/syncs.json`,
  JSON.stringify({ syncs: [syncOf('bench-everyone', 'bench'), syncOf('bench-resume', 'resume')] }),
);
const env = {
  PATH: process.env['PATH'] ?? '',
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  SYNCS_FILE: `${tmp.dir}/syncs.json`,
  DATA_DIR: tmp.dir,
  SYNC_GATEWAY_URL: stack.gatewayUrl,
  SYNC_API_KEY: stack.apiKey,
  ...Object.fromEntries(
    PLATFORMS.map((p) => [p.sandbox.portVariable, new URL(stack.origins[p.name] ?? '').port]),
  ),
};

interface CliRun {
  stdout: string;
  signal: NodeJS.Signals | null;
  /** RSS once the run had read its first page; undefined when the probe had not written yet. */
  startRss: number | undefined;
  /** The process's peak RSS (the kernel's high-water mark), undefined when it was killed. */
  peakRss: number | undefined;
  peakHeapUsed: number;
}

interface Probe {
  rss: number;
  maxRss: number;
  heapUsed: number;
}

/** `sync run NAME` in a process of its own, its memory probed; SIGKILLed once `killAt` rows are written. */
const runCli = (name: string, killAt?: number) =>
  new Promise<CliRun>((resolveRun) => {
    const probeFile = join(tmp.dir, `probe-${name}-${Date.now()}.json`);
    const readProbe = (): Probe | undefined => {
      try {
        return existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as Probe) : undefined;
      } catch {
        return undefined; // caught mid-write
      }
    };
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        resolve(import.meta.dirname, 'memory-probe.ts'),
        'cli/main.ts',
        'sync',
        'run',
        name,
      ],
      {
        env: { ...env, MEMORY_PROBE_FILE: probeFile, MEMORY_PROBE_INTERVAL_MS: '50' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let startRss: number | undefined;
    let peakHeapUsed = 0;
    const poll = setInterval(() => {
      peakHeapUsed = Math.max(peakHeapUsed, readProbe()?.heapUsed ?? 0);
    }, 100);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-2_000);
      if (startRss === undefined && /reading source/.test(stderr)) startRss = readProbe()?.rss;
      const done = [...stderr.matchAll(/writing \[[#.]+\] (\d+)\//g)].map((m) => Number(m[1]));
      if (killAt !== undefined && done.some((n) => n >= killAt)) child.kill('SIGKILL');
    });
    child.once('exit', (_code, signal) => {
      clearInterval(poll);
      const last = readProbe();
      resolveRun({
        stdout,
        signal,
        startRss,
        peakRss: signal === 'SIGKILL' ? undefined : last?.maxRss,
        peakHeapUsed: Math.max(peakHeapUsed, last?.heapUsed ?? 0),
      });
    });
  });

/** The sync's last run as the CLI left it in DATA_DIR/syncs.db. */
const lastRun = (sync: string): { run: RunRecord; refused: Set<string> } => {
  const store = new SyncStateStore(join(tmp.dir, 'syncs.db'));
  try {
    const run = store.lastRun(sync);
    if (!run) throw new Error(`no run of ${sync} was recorded`);
    return { run, refused: new Set(store.runRows(run.id, 'FAILED', 10_000_000).map((r) => r.key)) };
  } finally {
    store.close();
  }
};
const durationOf = (run: RunRecord) => (run.finishedAt ?? run.startedAt) - run.startedAt;

let allMet = true;
try {
  // ── first run ──
  await clear();
  const stackBefore = await stackRss();
  const firstCli = await runCli('bench-everyone');
  const stackAfter = await stackRss();
  const { run: first, refused } = lastRun('bench-everyone');
  const firstCalls = (await requests()).length;
  const toWrite = first.inserts + first.updates;
  const firstBound = Math.ceil(toWrite / 500);
  const growth =
    firstCli.peakRss !== undefined && firstCli.startRss !== undefined
      ? firstCli.peakRss - firstCli.startRss
      : Number.POSITIVE_INFINITY;
  const memoryOk = growth < MEMORY_TARGET_BYTES;
  allMet &&= firstCalls === firstBound && first.status !== 'FAILED' && memoryOk;
  const rowsPerSecond = Math.round((first.sourceRows / durationOf(first)) * 1000);

  // ── 1% changed ──
  const { emails: changed } = await ask<{ emails: string[] }>('change');
  await clear();
  await runCli('bench-everyone');
  const { run: second } = lastRun('bench-everyone');
  const secondCalls = (await requests()).length;
  // Rows Mailchimp refused on the first run are sent again too.
  const secondRows = second.inserts + second.updates;
  const secondBound = Math.ceil(secondRows / 500);
  // The changed customers Mailchimp refused on the first run have no fingerprint: they are retried as inserts.
  const expectedUpdates = changed.filter((email) => !refused.has(email)).length;
  const secondOk =
    second.id !== first.id &&
    secondCalls === secondBound &&
    second.updates === expectedUpdates &&
    second.inserts === refused.size;
  allMet &&= secondOk;

  console.log(
    `\nbench:sync — ${customers} customers to the Mailchimp audience through the gateway (sync: \`sync run\` in its own process)\n`,
  );
  console.log(
    table(
      ['run', 'source rows', 'rows written', 'write calls', 'lower bound', 'target', 'duration', 'rows/s'],
      [
        [
          'first',
          first.sourceRows,
          toWrite,
          firstCalls,
          firstBound,
          verdict(firstCalls === firstBound),
          `${durationOf(first)} ms`,
          rowsPerSecond,
        ],
        [
          `1% changed (${changed.length})`,
          second.sourceRows,
          secondRows,
          secondCalls,
          secondBound,
          verdict(secondOk),
          `${durationOf(second)} ms`,
          Math.round((second.sourceRows / durationOf(second)) * 1000),
        ],
      ],
    ),
  );
  console.log(
    `\nmemory of the sync process (first run): RSS ${firstCli.startRss === undefined ? '?' : MB(firstCli.startRss)} once running, ` +
      `peak ${firstCli.peakRss === undefined ? '?' : MB(firstCli.peakRss)}, peak RSS growth ${Number.isFinite(growth) ? MB(growth) : '?'} ` +
      `(target < ${MB(MEMORY_TARGET_BYTES)}) — ${verdict(memoryOk)}; peak V8 heap used ${MB(firstCli.peakHeapUsed)}`,
  );
  console.log(
    `memory of the stack process (sandboxes' worlds and audience, subgraphs, gateway; not the sync's): ` +
      `RSS ${MB(stackBefore)} before the first run, ${MB(stackAfter)} after`,
  );

  // ── killed at 50%, resumed ──
  await clear();
  const killed = await runCli('bench-resume', Math.floor(toWrite / 2));
  const beforeResume = (await requests()).length;
  const resumed = await runCli('bench-resume');
  const all = await requests();
  const sent = new Map<string, number>();
  for (const email of all.flatMap(emailsOf)) sent.set(email, (sent.get(email) ?? 0) + 1);
  const twice = [...sent.values()].filter((n) => n > 1).length;
  const acknowledgedOnce = all[0] !== undefined && emailsOf(all[0]).every((e) => sent.get(e) === 1);
  const complete = sent.size === toWrite;
  const resumeOk =
    killed.signal === 'SIGKILL' &&
    /\(resumed\)/.test(resumed.stdout) &&
    acknowledgedOnce &&
    complete &&
    twice <= 500;
  allMet &&= resumeOk;
  console.log(
    `\nkilled at ${beforeResume} of ${firstBound} batches (SIGKILL), resumed: ${/\(resumed\)/.test(resumed.stdout) ? 'yes' : 'NO'}; ` +
      `rows sent ${sent.size}/${toWrite}; rows sent twice ${twice} (at most the one batch in flight at the kill); ` +
      `acknowledged batches resent: ${acknowledgedOnce ? 'none' : 'SOME'} — ${verdict(resumeOk)}`,
  );
  console.log(`\n${allMet ? 'All targets met.' : 'Some targets MISSED.'}`);
} finally {
  await ask('close').catch(() => undefined);
  tmp.remove();
}
process.exitCode = allMet ? 0 : 1;
