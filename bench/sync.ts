import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createLogger } from '../lib/logger.js';
import { PLATFORMS } from '../platforms/registry.js';
import type { RecordedRequest } from '../sandboxes/kit/recorder.js';
import { parseSyncDefinitions } from '../syncs/definition.js';
import { SyncService } from '../syncs/service.js';
import { tempDir } from '../test/syncs/harness.js';
import { bench, BENCH_ANCHOR_DATE, benchStack, table, verdict } from './harness.js';

/**
 * `npm run bench:sync`: one large audience (SANDBOX_CUSTOMERS, default 20,000; the figure
 * is 100,000) synced to the Mailchimp sandbox through a real gateway: write calls against their
 * lower bound, rows per second and RSS on the first run, the second run after 1% of the customers
 * changed, and a run killed half-way (SIGKILL, its own process) then resumed.
 */

const customers = Number(process.env['SANDBOX_CUSTOMERS'] ?? 20_000);
const BATCH = 'POST /3.0/lists/{listId}';
const apiKey = (bench.headers['authorization'] ?? '').replace(/^Bearer /, '');
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

const stack = await benchStack({
  world: { seed: 42, customers, anchorDate: BENCH_ANCHOR_DATE },
  responseCache: false,
});
const tmp = tempDir('bench-sync-');
const mailchimp = stack.origins.mailchimp;
const requests = async (): Promise<RecordedRequest[]> =>
  (
    (await (await fetch(`${mailchimp}/__sandbox/requests?endpoint=${encodeURIComponent(BATCH)}`)).json()) as {
      requests: RecordedRequest[];
    }
  ).requests;
const clear = () => fetch(`${mailchimp}/__sandbox/requests`, { method: 'DELETE' });
const emailsOf = (r: RecordedRequest) =>
  (r.body as { members: { email_address: string }[] }).members.map((m) => m.email_address);

let allMet = true;
try {
  const definitions = parseSyncDefinitions({
    syncs: [syncOf('bench-everyone', 'bench'), syncOf('bench-resume', 'resume')],
  });
  writeFileSync(`${tmp.dir}/syncs.json`, JSON.stringify({ syncs: [syncOf('bench-resume', 'resume')] }));
  const service = new SyncService({
    definitions,
    stateFile: `${tmp.dir}/syncs.db`,
    gatewayUrl: stack.gatewayUrl,
    apiKey,
    connect: (target) => target.platform.sandbox.connection(stack.origins[target.platform.name]),
    logger: createLogger({ name: 'bench', level: 'silent' }),
  });

  // ── first run ──
  await clear();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const rssBefore = process.memoryUsage().rss;
  const first = await service.run('bench-everyone');
  clearInterval(sampler);
  const firstCalls = (await requests()).length;
  const toWrite = first.counts.inserts + first.counts.updates;
  const firstBound = Math.ceil(toWrite / 500);
  allMet &&= firstCalls === firstBound && first.status !== 'FAILED';
  const rowsPerSecond = Math.round((first.counts.sourceRows / first.durationMs) * 1000);

  // ── 1% changed ──
  const changed = stack.world.customers.filter((_, i) => i % 100 === 0);
  for (const customer of changed) customer.person.firstName = `${customer.person.firstName}x`;
  await clear();
  const second = await service.run('bench-everyone');
  const secondCalls = (await requests()).length;
  // Rows Mailchimp refused on the first run are sent again too.
  const secondRows = second.counts.inserts + second.counts.updates;
  const secondBound = Math.ceil(secondRows / 500);
  // The changed customers Mailchimp refused on the first run have no fingerprint: they are retried as inserts.
  const refused = new Set(service.runRows(first.id, 'FAILED', 1_000_000).map((r) => r.key));
  const expectedUpdates = changed.filter((c) => !refused.has(c.person.email.toLowerCase())).length;
  const secondOk =
    secondCalls === secondBound &&
    second.counts.updates === expectedUpdates &&
    second.counts.inserts === refused.size;
  allMet &&= secondOk;

  console.log(`\nbench:sync — ${customers} customers to the Mailchimp audience through the gateway\n`);
  console.log(
    table(
      [
        'run',
        'source rows',
        'rows written',
        'write calls',
        'lower bound',
        'target',
        'duration',
        'rows/s',
        'peak RSS growth',
      ],
      [
        [
          'first',
          first.counts.sourceRows,
          toWrite,
          firstCalls,
          firstBound,
          verdict(firstCalls === firstBound),
          `${first.durationMs} ms`,
          rowsPerSecond,
          `${Math.round((peak - rssBefore) / 1e6)} MB`,
        ],
        [
          `1% changed (${changed.length})`,
          second.counts.sourceRows,
          secondRows,
          secondCalls,
          secondBound,
          verdict(secondOk),
          `${second.durationMs} ms`,
          Math.round((second.counts.sourceRows / second.durationMs) * 1000),
          '-',
        ],
      ],
    ),
  );
  service.close();

  // ── killed at 50%, resumed ──
  await clear();
  const env = {
    PATH: process.env['PATH'] ?? '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    SYNCS_FILE: `${tmp.dir}/syncs.json`,
    DATA_DIR: tmp.dir,
    SYNC_GATEWAY_URL: stack.gatewayUrl,
    SYNC_API_KEY: apiKey,
    ...Object.fromEntries(
      PLATFORMS.map((p) => [p.sandbox.portVariable, new URL(stack.origins[p.name]).port]),
    ),
  };
  const runCli = (killAt?: number) =>
    new Promise<{ stdout: string; signal: NodeJS.Signals | null }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'cli/main.ts', 'sync', 'run', 'bench-resume'],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString('utf8')).slice(-2_000);
        const done = [...stderr.matchAll(/writing \[[#.]+\] (\d+)\//g)].map((m) => Number(m[1]));
        if (killAt !== undefined && done.some((n) => n >= killAt)) child.kill('SIGKILL');
      });
      child.once('exit', (_code, signal) => resolve({ stdout, signal }));
    });
  const killed = await runCli(Math.floor(toWrite / 2));
  const beforeResume = (await requests()).length;
  const resumed = await runCli();
  const all = await requests();
  const sent = new Map<string, number>();
  for (const email of all.flatMap(emailsOf)) sent.set(email, (sent.get(email) ?? 0) + 1);
  const twice = [...sent.values()].filter((n) => n > 1).length;
  const acknowledgedOnce = emailsOf(all[0] as RecordedRequest).every((e) => sent.get(e) === 1);
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
  await stack.close();
  tmp.remove();
}
process.exitCode = allMet ? 0 : 1;
