import { Queue, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSyncFile } from '../../syncs/definition.js';
import { WorkerSyncs } from '../../syncs/directory.js';
import { bullConnection, syncQueueName } from '../../syncs/jobs.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

/**
 * A gateway's dry run when workers run the syncs (`WORKER_SYNCS=on`): queued on the sync's BullMQ
 * queue, its preview read back from the job's return value. What comes back is checked: no worker
 * in time, a worker that could not read the source and one answering something else each fail
 * with their code. (A real worker's preview: test/e2e/syncs-distributed.test.ts.)
 */

const definitions = loadSyncFile('syncs/demo.yaml');
const [sync] = definitions;
const name = sync?.name ?? '';

describe.runIf(REDIS_URL)(redisSuite("a gateway's dry run answered by the workers"), () => {
  const prefix = `test-preview-${process.pid}-${Date.now()}`;
  const closing: { close(): Promise<void> }[] = [];
  const open = async (dryRunTimeoutMs: number) => {
    const syncs = await WorkerSyncs.open({ definitions, redisUrl: REDIS_URL ?? '', prefix, dryRunTimeoutMs });
    closing.push(syncs);
    return syncs;
  };
  /** A BullMQ worker on the sync's queue answering every job with `answer`. */
  const answering = (answer: unknown) => {
    const worker = new Worker(syncQueueName(name), async () => answer, {
      connection: bullConnection(REDIS_URL ?? ''),
      prefix: `${prefix}:bull`,
    });
    closing.push(worker);
    return worker;
  };

  afterAll(async () => {
    for (const item of closing.reverse()) await item.close();
  });

  it('fails with SYNC_DRY_RUN_TIMEOUT when no worker answers in time, and withdraws the job', async () => {
    const syncs = await open(1_000);
    await expect(syncs.preview(name, { full: false, sampleSize: 5 })).rejects.toMatchObject({
      code: 'SYNC_DRY_RUN_TIMEOUT',
    });
    const queue = new Queue(syncQueueName(name), {
      connection: bullConnection(REDIS_URL ?? ''),
      prefix: `${prefix}:bull`,
    });
    closing.push(queue);
    expect(await queue.getWaitingCount()).toBe(0);
  }, 20_000);

  it("fails with SYNC_DRY_RUN_FAILED and the worker's code when it could not read the source", async () => {
    const syncs = await open(10_000);
    const worker = answering({ failed: 'UPSTREAM_UNAVAILABLE' });
    await expect(syncs.preview(name, { full: false, sampleSize: 5 })).rejects.toMatchObject({
      code: 'SYNC_DRY_RUN_FAILED',
      reason: 'UPSTREAM_UNAVAILABLE',
    });
    await worker.close();
  }, 20_000);

  it('fails with SYNC_DRY_RUN_BAD_RESULT when the worker answers something that is not a preview', async () => {
    const syncs = await open(10_000);
    const worker = answering({ counts: 'many' });
    await expect(syncs.preview(name, { full: false, sampleSize: 5 })).rejects.toMatchObject({
      code: 'SYNC_DRY_RUN_BAD_RESULT',
    });
    await worker.close();
  }, 20_000);

  it("answers the worker's preview as it sent it", async () => {
    const syncs = await open(10_000);
    const preview = {
      counts: {
        sourceRows: 3,
        sourceCalls: 1,
        inserts: 2,
        updates: 0,
        removals: 0,
        unchanged: 0,
        quarantined: 1,
        written: 0,
        rejected: 0,
        calls: 0,
      },
      lowerBound: 1,
      durationMs: 12,
      samples: [{ change: 'insert', key: 'a@example.org', record: { email: 'a@example.org', total: 3 } }],
      quarantinedSamples: [{ key: 'b', code: 'EMAIL', reason: 'not an email address' }],
    };
    const worker = answering({ preview });
    await expect(syncs.preview(name, { full: false, sampleSize: 5 })).resolves.toEqual(preview);
    await worker.close();
  }, 20_000);
});
