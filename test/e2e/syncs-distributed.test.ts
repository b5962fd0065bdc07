import { writeFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { bullConnection, syncQueueName } from '../../syncs/jobs.js';
import { RedisSyncState } from '../../syncs/redis-state.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { eventually, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startTestStack } from '../helpers/stack.js';
import { startWorkerProcess, stopWorkers, type WorkerProcess } from '../helpers/worker.js';
import { clearRecorded, recorded, tempDir } from '../syncs/harness.js';

/**
 * The syncs in two real `worker` processes (WORKER_SYNCS=on) sharing one Redis: BullMQ schedules
 * each run once whichever worker takes it, and a worker SIGKILLed mid-run leaves the run to the
 * other, which resumes it after the last acknowledged batch.
 */

const BATCH = 'POST /3.0/lists/{listId}';
const CUSTOMERS = 1_800;
const EVERY_MS = 2_000;

const syncFile = (name: string, schedule: string) => `syncs:
  - name: ${name}
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
      options: { tags: [${name}] }
    schedule: ${schedule}
`;

interface Worker extends WorkerProcess {
  /** The worker's log so far (JSON lines). */
  log(): string;
}

/** The members each recorded batch carried. */
const members = (requests: Awaited<ReturnType<typeof recorded>>) =>
  requests.map((r) =>
    (r.body as { members: { email_address: string }[] }).members.map((m) => m.email_address),
  );

describe.runIf(REDIS_URL)(redisSuite('syncs shared by two worker processes (BullMQ)'), () => {
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  let workers: Worker[] = [];
  const queues: Queue[] = [];
  const states: RedisSyncState[] = [];

  /** A gateway process of its own in worker mode: its graph has only what it reads from the workers' Redis. */
  const startSyncsGateway = (prefix: string, file: string): Promise<GatewayProcess> =>
    startGatewayProcess({
      clientsFile: 'gateway/auth/demo-clients.json',
      readyKey: DEMO_API_KEYS.admin,
      env: {
        WORKER_SYNCS: 'on',
        SYNCS_FILE: file,
        SYNC_MIN_INTERVAL_MS: '1000',
        REDIS_URL: REDIS_URL ?? '',
        EVENT_LOG_PREFIX: prefix,
      },
    });

  const startWorker = async (prefix: string, file: string): Promise<Worker> => {
    const process_ = await startWorkerProcess(stack, prefix, {
      LOG_LEVEL: 'info',
      WORKER_SYNCS: 'on',
      SYNCS_FILE: file,
      SYNC_GATEWAY_URL: stack.gatewayUrl,
      SYNC_MIN_INTERVAL_MS: '1000',
      // A killed worker's run is taken over quickly.
      SYNC_LOCK_MS: '2000',
      ...Object.fromEntries(
        PLATFORMS.map((p) => [p.sandbox.portVariable, new URL(stack.origins[p.name]).port]),
      ),
    });
    let output = '';
    process_.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    process_.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    return { ...process_, log: () => output };
  };

  const stopAllWorkers = async () => {
    await stopWorkers(workers);
    workers = [];
  };

  beforeAll(async () => {
    stack = await startTestStack({ customers: CUSTOMERS, responseCache: false, ttlSeconds: 0 });
    tmp = tempDir('syncs-distributed-');
  }, 90_000);
  afterEach(stopAllWorkers, 60_000);
  afterAll(async () => {
    await stopAllWorkers();
    await Promise.allSettled(queues.map((queue) => queue.close()));
    await Promise.allSettled(states.map((state) => state.close()));
    await stack?.close();
    tmp?.remove();
  }, 60_000);

  it('should run each scheduled run of an interval sync once across the two workers', async () => {
    const prefix = `test-syncs-once-${process.pid}-${Date.now()}`;
    const file = `${tmp.dir}/ticker.yaml`;
    writeFileSync(file, syncFile('ticker', `{ every: ${EVERY_MS / 1000}s }`));
    await clearRecorded(stack.origins.mailchimp);
    workers = await Promise.all([startWorker(prefix, file), startWorker(prefix, file)]);

    const queue = new Queue(syncQueueName('ticker'), {
      connection: bullConnection(REDIS_URL ?? ''),
      prefix: `${prefix}:syncs:bull`,
    });
    queues.push(queue);
    const completed = await eventually(
      () => queue.getCompleted(0, 100),
      (jobs) => jobs.length >= 5,
      400,
    );
    expect(completed.length).toBeGreaterThanOrEqual(5);
    // No more scheduled runs, and the one under way (if any) ends before the workers stop.
    await queue.removeJobScheduler(syncQueueName('ticker'));
    await eventually(
      async () => (await queue.getActiveCount()) + (await queue.getWaitingCount()),
      (busy) => busy === 0,
      300,
    );
    await stopAllWorkers();

    const jobs = await queue.getCompleted(0, 100);
    // One job per scheduled time: BullMQ names each after its time, and the times fall on the
    // schedule. On a loaded machine BullMQ may skip a slot the workers fell behind on (seen: 6 s
    // between two runs of a 2 s schedule); a slot is never run twice.
    const times = jobs.map((job) => Number(String(job.id).split(':').at(-1))).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(jobs.length);
    const gaps = times.slice(1).map((time, i) => time - (times[i] as number));
    expect(gaps.filter((gap) => gap <= 0 || gap % EVERY_MS !== 0)).toEqual([]);

    // Each job ran one run, its own; the state holds exactly those runs, all scheduled.
    const state = await RedisSyncState.open({ url: REDIS_URL ?? '', prefix: `${prefix}:syncs` });
    states.push(state);
    const runs = await state.runs({ sync: 'ticker', limit: 1_000 });
    const runIds = jobs.map((job) => (job.returnvalue as { run: number }).run);
    expect(new Set(runIds).size).toBe(jobs.length);
    expect(runs.map((run) => run.id).sort((a, b) => a - b)).toEqual([...runIds].sort((a, b) => a - b));
    expect(runs.every((run) => run.trigger === 'schedule' && run.status !== 'RUNNING')).toBe(true);
    // One run at a time across the workers: the queue's global concurrency, and no run started
    // before the one before it had ended.
    expect(await queue.getGlobalConcurrency()).toBe(1);
    const byId = [...runs].sort((a, b) => a.id - b.id);
    for (let i = 1; i < byId.length; i++)
      expect(byId[i]?.startedAt).toBeGreaterThanOrEqual(byId[i - 1]?.finishedAt ?? Infinity);

    // The sandbox got each run's calls once: the first run wrote every customer; each later one
    // sent only what Mailchimp refused the run before (refused inserts are retried), nothing twice.
    const batches = await recorded(stack.origins.mailchimp, BATCH);
    const sent = members(batches);
    expect(new Set(sent.flat()).size).toBe(stack.world.customers.length);
    expect(runs.reduce((sum, run) => sum + run.calls, 0)).toBe(batches.length);
    const ordered = [...runs].sort((a, b) => a.id - b.id);
    expect(ordered[0]?.inserts).toBe(CUSTOMERS);
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]?.inserts).toBe(ordered[i - 1]?.rejected);
  }, 120_000);

  it('should resume a run on the other worker when the one running it is killed, sending no acknowledged batch twice', async () => {
    const prefix = `test-syncs-kill-${process.pid}-${Date.now()}`;
    const file = `${tmp.dir}/everyone.yaml`;
    writeFileSync(file, syncFile('everyone', '{ every: 1h }'));
    await clearRecorded(stack.origins.mailchimp);
    // Each batch takes a while, so the kill lands between two of them, as it would in a long run.
    const faults = await fetch(`${stack.origins.mailchimp}/__sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 400, endpoints: [BATCH] }),
    });
    expect(faults.status).toBe(200);
    try {
      workers = await Promise.all([startWorker(prefix, file), startWorker(prefix, file)]);
      // The worker that has written a first batch of the run is killed.
      const running = await eventually(
        () => Promise.resolve(workers.find((worker) => /"msg":"sync batch written"/.test(worker.log()))),
        (worker) => worker !== undefined,
        600,
      );
      if (!running) throw new Error('no worker started the run');
      running.child.kill('SIGKILL');
      await running.exited;
      const survivor = workers.find((worker) => worker !== running) as Worker;

      const state = await RedisSyncState.open({ url: REDIS_URL ?? '', prefix: `${prefix}:syncs` });
      states.push(state);
      const runs = await eventually(
        () => state.runs({ sync: 'everyone', limit: 10 }),
        (list) => list.length > 0 && list.every((run) => run.status !== 'RUNNING'),
        600,
      );
      // One run, finished by the survivor after one resume.
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        status: expect.stringMatching(/^(SUCCEEDED|PARTIALLY_FAILED)$/),
        resumes: 1,
      });
      // Its log line may follow the state's update by a moment.
      const ended = /"resumed":true,"msg":"sync run ended"/;
      expect(
        await eventually(
          () => Promise.resolve(survivor.log()),
          (log) => ended.test(log),
        ),
      ).toMatch(ended);

      const all = await recorded(stack.origins.mailchimp, BATCH);
      const sent = members(all);
      // The first batch was acknowledged before the kill: its members went out exactly once.
      const counts = new Map<string, number>();
      for (const email of sent.flat()) counts.set(email, (counts.get(email) ?? 0) + 1);
      for (const email of sent[0] ?? []) expect(counts.get(email)).toBe(1);
      // Every customer was sent; at most the one batch in flight at the kill went twice, whole.
      expect(counts.size).toBe(stack.world.customers.length);
      const twice = [...counts].filter(([, n]) => n > 1).map(([email]) => email);
      expect(twice.length === 0 || twice.length === 500).toBe(true);
      expect(all.length).toBe(Math.ceil(CUSTOMERS / 500) + (twice.length > 0 ? 1 : 0));
    } finally {
      await fetch(`${stack.origins.mailchimp}/__sandbox/faults`, { method: 'DELETE' });
    }
  }, 180_000);

  it("should show the workers' runs and refused rows in a gateway's graph, and queue runSync for them", async () => {
    const prefix = `test-syncs-graph-${process.pid}-${Date.now()}`;
    const file = `${tmp.dir}/graph.yaml`;
    writeFileSync(file, syncFile('graph', '{ every: 1h }'));
    await clearRecorded(stack.origins.mailchimp);
    let gateway: GatewayProcess | undefined;
    try {
      gateway = await startSyncsGateway(prefix, file);
      const origin = gateway.origin;
      const query = async <T>(text: string): Promise<T> => {
        const response = await fetch(`${origin}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEMO_API_KEYS.admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: text }),
        });
        const body = (await response.json()) as { data?: T; errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data as T;
      };
      type Run = {
        id: string;
        status: string;
        trigger: string;
        counts: { written: number; rejected: number };
      };
      const runs = () =>
        query<{ syncRuns: Run[] }>(
          '{ syncRuns(sync: "graph", first: 10) { id status trigger counts { written rejected } } }',
        ).then((data) => data.syncRuns);
      const ended = (run: Run | undefined) => run !== undefined && run.status !== 'RUNNING';

      // Nothing yet: the gateway lists the sync from the file, with no run.
      expect(await query<{ syncs: unknown[] }>('{ syncs { name lastRun { id } } }')).toEqual({
        syncs: [{ name: 'graph', lastRun: null }],
      });

      // A worker runs the interval sync's first run at once; the gateway shows it as it ends.
      workers = [await startWorker(prefix, file)];
      const [first] = await eventually(runs, (list) => ended(list[0]), 600);
      expect(first).toMatchObject({
        trigger: 'schedule',
        status: expect.stringMatching(/SUCCEEDED|PARTIALLY_FAILED/),
      });
      expect((first?.counts.written ?? 0) + (first?.counts.rejected ?? 0)).toBe(CUSTOMERS);
      const refused = await query<{ syncRunRows: { status: string; code: string }[] }>(
        `{ syncRunRows(runId: "${first?.id}", status: FAILED, first: 500) { status code } }`,
      );
      expect(refused.syncRunRows).toHaveLength(Math.min(500, first?.counts.rejected ?? 0));
      const listed = await query<{ syncs: { name: string; lastRun: { id: string } | null }[] }>(
        '{ syncs { name lastRun { id } } }',
      );
      expect(listed.syncs).toEqual([{ name: 'graph', lastRun: { id: first?.id } }]);

      // runSync from the gateway: queued for the workers, which run it.
      const queued = await query<{ runSync: { status: string; trigger: string } }>(
        'mutation { runSync(name: "graph") { status trigger } }',
      );
      expect(queued.runSync).toEqual({ status: 'QUEUED', trigger: 'graph' });
      const after = await eventually(
        runs,
        (list) => list.some((run) => run.trigger === 'graph' && ended(run)),
        600,
      );
      expect(after.find((run) => run.trigger === 'graph')?.status).toMatch(/SUCCEEDED|PARTIALLY_FAILED/);
    } finally {
      await gateway?.stop();
    }
  }, 180_000);
  it("should answer runSync(dryRun: true) in a gateway with a worker's preview: the embedded shape, nothing written, no run kept", async () => {
    const prefix = `test-syncs-preview-${process.pid}-${Date.now()}`;
    const file = `${tmp.dir}/preview.yaml`;
    // No schedule: the only job is the dry run the gateway queues.
    writeFileSync(file, syncFile('preview', '{ every: 1h }').replace(/\n {4}schedule: .*\n/, '\n'));
    await clearRecorded(stack.origins.mailchimp);
    let gateway: GatewayProcess | undefined;
    try {
      gateway = await startSyncsGateway(prefix, file);
      workers = [await startWorker(prefix, file)];
      const response = await fetch(`${gateway.origin}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO_API_KEYS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation {
            runSync(name: "preview", dryRun: true) {
              id status trigger
              counts { sourceRows inserts updates removals quarantined calls written }
              preview { calls samples { change key record } quarantined { key status code } }
            }
          }`,
        }),
      });
      type Preview = {
        id: string;
        status: string;
        trigger: string;
        counts: Record<string, number>;
        preview: {
          calls: number;
          samples: { change: string; key: string; record: Record<string, unknown> }[];
          quarantined: { key: string; status: string; code: string }[];
        };
      };
      const body = (await response.json()) as { data?: { runSync: Preview }; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      const dry = body.data?.runSync as Preview;
      expect(dry).toMatchObject({ id: '0', status: 'DRY_RUN', trigger: 'graph' });
      expect(dry.counts).toMatchObject({
        sourceRows: CUSTOMERS,
        updates: 0,
        removals: 0,
        calls: 0,
        written: 0,
      });
      expect((dry.counts['inserts'] ?? 0) + (dry.counts['quarantined'] ?? 0)).toBe(CUSTOMERS);
      expect(dry.preview.calls).toBe(Math.ceil((dry.counts['inserts'] ?? 0) / 500));
      expect(dry.preview.samples).toHaveLength(Math.min(5, dry.counts['inserts'] ?? 0));
      for (const sample of dry.preview.samples) {
        expect(sample.change).toBe('INSERT');
        expect(sample.record['email']).toBe(sample.key);
      }
      expect(dry.preview.quarantined).toHaveLength(Math.min(5, dry.counts['quarantined'] ?? 0));
      // Nothing written, no run kept: the worker's state has no run of the sync.
      expect(await recorded(stack.origins.mailchimp)).toHaveLength(0);
      const state = await RedisSyncState.open({ url: REDIS_URL ?? '', prefix: `${prefix}:syncs` });
      states.push(state);
      expect(await state.runs({ sync: 'preview', limit: 10 })).toEqual([]);
      expect(await state.unfinishedRun('preview')).toBeUndefined();
    } finally {
      await gateway?.stop();
    }
  }, 180_000);
});
