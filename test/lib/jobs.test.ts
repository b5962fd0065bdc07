import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobHealth, WorkerJob } from '../../lib/jobs/job.js';
import { startJobs, type RunningJobs } from '../../lib/jobs/runner.js';
import { buildJobServer } from '../../lib/jobs/server.js';
import { createLogger } from '../../lib/logger.js';

const logger = createLogger({ name: 'jobs-test', level: 'silent' });
const TOKEN = 'jobs-test-metrics-token';

/** A job that records what happened to it in `events`, with the health it is told to report. */
function job(name: string, events: string[], health: () => Promise<JobHealth>, failStart = false): WorkerJob {
  return {
    name,
    start(signal) {
      if (failStart) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
      signal.addEventListener('abort', () => events.push(`abort seen by ${name}`));
    },
    async stop() {
      events.push(`stop ${name}`);
    },
    health,
  };
}

describe('worker jobs', () => {
  const toClose: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of toClose.splice(0)) await close();
  });

  it('should start jobs in order and stop them in reverse, once', async () => {
    const events: string[] = [];
    const ok = async (): Promise<JobHealth> => ({ status: 'ok' });
    const running = await startJobs([job('a', events, ok), job('b', events, ok)], logger);
    await Promise.all([running.stop(), running.stop()]);
    expect(events).toEqual(['start a', 'start b', 'abort seen by a', 'abort seen by b', 'stop b', 'stop a']);
    expect(await running.health()).toEqual({
      status: 'failing',
      jobs: { a: { status: 'stopped' }, b: { status: 'stopped' } },
    });
  });

  it('should stop the jobs already started when one cannot start', async () => {
    const events: string[] = [];
    const ok = async (): Promise<JobHealth> => ({ status: 'ok' });
    await expect(startJobs([job('a', events, ok), job('b', events, ok, true)], logger)).rejects.toThrow(
      'b cannot start',
    );
    expect(events).toEqual(['start a', 'abort seen by a', 'stop a']);
  });

  async function serve(running: RunningJobs, token: string | undefined): Promise<string> {
    const server = buildJobServer({ jobs: running, metricsToken: token, logger });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    toClose.push(() => new Promise((resolve) => server.close(() => resolve())));
    toClose.push(() => running.stop());
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('should answer /health 503 naming the failing job, with details only for the metrics token', async () => {
    const events: string[] = [];
    const running = await startJobs(
      [
        job('processor', events, async () => ({ status: 'ok', detail: { pending: 3 } })),
        job('pruner', events, async () => {
          throw new Error('the store does not answer');
        }),
      ],
      logger,
    );
    const origin = await serve(running, TOKEN);
    const anonymous = await fetch(`${origin}/health`);
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({
      status: 'failing',
      jobs: { processor: { status: 'ok' }, pruner: { status: 'failing' } },
    });
    const detailed = await fetch(`${origin}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await detailed.json()).toEqual({
      status: 'failing',
      jobs: {
        processor: { status: 'ok', detail: { pending: 3 } },
        pruner: { status: 'failing', detail: 'the store does not answer' },
      },
    });
  });

  it('should serve /metrics to the token holder only, and nothing else', async () => {
    const running = await startJobs([job('processor', [], async () => ({ status: 'ok' }))], logger);
    const origin = await serve(running, TOKEN);
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    expect((await fetch(`${origin}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_cpu_seconds_total');
    const graphql = await fetch(`${origin}/graphql`, { method: 'POST', body: '{}' });
    expect(graphql.status).toBe(404);
    expect(((await graphql.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain(
      'A worker serves only /health and /metrics',
    );
  });
});
