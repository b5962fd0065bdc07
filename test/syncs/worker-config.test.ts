import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { workerSyncJobs } from '../../cli/worker-syncs.js';
import { ConfigError } from '../../lib/config/env.js';
import type { EventLog } from '../../lib/events/log/types.js';
import { silentLogger } from '../helpers/context.js';
import { tempDir } from './harness.js';

/**
 * A worker's syncs are configured before anything opens: off by default, and every bad setting is
 * a ConfigError (exit 2) naming the variable, never a worker that starts without its syncs.
 */
describe("a worker's syncs configuration", () => {
  const tmp = tempDir('syncs-worker-config-');
  afterAll(() => tmp.remove());
  const log = {} as EventLog;
  // Only read: no job here is started.
  const REDIS_URL = 'redis://127.0.0.1:6379';
  const fileWith = (name: string, schedule: string) => {
    const file = `${tmp.dir}/${name}.yaml`;
    writeFileSync(
      file,
      `syncs:
  - name: ${name}
    source:
      query: 'query($first: Int!, $after: String) { customers(first: $first, after: $after) { edges { node { email } } pageInfo { hasNextPage endCursor } } }'
      connection: customers
    key: email
    mapping: { email: email }
    destination: { type: mailchimp-audience }
    schedule: ${schedule}
`,
    );
    return file;
  };
  const problem = async (env: Record<string, string>) => {
    try {
      await workerSyncJobs(log, silentLogger, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('no ConfigError');
  };

  it('should run no syncs unless WORKER_SYNCS=on', async () => {
    expect(await workerSyncJobs(log, silentLogger, {})).toEqual([]);
    expect(await workerSyncJobs(log, silentLogger, { WORKER_SYNCS: 'off' })).toEqual([]);
  });

  it('should make one job of the syncs when on', async () => {
    const jobs = await workerSyncJobs(log, silentLogger, {
      WORKER_SYNCS: 'on',
      REDIS_URL,
      SYNCS_FILE: fileWith('hourly', '{ every: 1h }'),
    });
    expect(jobs.map((job) => job.name)).toEqual(['syncs']);
  });

  it('should refuse a schedule shorter than SYNC_MIN_INTERVAL_MS, a bad lock and production without its own key', async () => {
    const fast = fileWith('fast', '{ every: 5s }');
    expect(await problem({ WORKER_SYNCS: 'on', REDIS_URL, SYNCS_FILE: fast })).toContain(
      'sync "fast": schedule.every: must be at least 1m',
    );
    expect(
      await workerSyncJobs(log, silentLogger, {
        WORKER_SYNCS: 'on',
        REDIS_URL,
        SYNCS_FILE: fast,
        SYNC_MIN_INTERVAL_MS: '5000',
      }),
    ).toHaveLength(1);
    expect(await problem({ WORKER_SYNCS: 'on', REDIS_URL, SYNCS_FILE: fast, SYNC_LOCK_MS: '10' })).toContain(
      'SYNC_LOCK_MS',
    );
    expect(await problem({ WORKER_SYNCS: 'maybe' })).toContain('WORKER_SYNCS');
    expect(await problem({ WORKER_SYNCS: 'on', SYNCS_FILE: fast })).toContain(
      'REDIS_URL: required with WORKER_SYNCS=on',
    );
    expect(
      await problem({
        WORKER_SYNCS: 'on',
        REDIS_URL,
        NODE_ENV: 'production',
        SYNCS_FILE: fileWith('prod', '{ every: 1h }'),
      }),
    ).toContain('SYNC_API_KEY: required with WORKER_SYNCS=on in production');
  });

  it('should run production syncs with their own API key, each destination from its platform variables', async () => {
    const jobs = await workerSyncJobs(log, silentLogger, {
      WORKER_SYNCS: 'on',
      REDIS_URL,
      NODE_ENV: 'production',
      SYNC_API_KEY: 'a-production-key-of-the-sync-client',
      SYNCS_FILE: fileWith('prod-ok', '{ every: 1h }'),
    });
    expect(jobs.map((job) => job.name)).toEqual(['syncs']);
  });
});
