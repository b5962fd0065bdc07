import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { recorded } from './harness.js';

/** The syncs in the graph: listed, run and inspected through the gateway, with the syncs scopes. */

const admin = { authorization: `Bearer ${DEMO_API_KEYS.admin}` };
const personalization = { authorization: `Bearer ${DEMO_API_KEYS['personalization-service']}` };

interface Run {
  id: string;
  sync: string;
  status: string;
  trigger: string;
  counts: { written: number; rejected: number; calls: number };
}
const RUN_FIELDS = 'id sync status trigger counts { written rejected calls }';

describe('syncs in the graph', () => {
  let stack: Stack;

  /** Polls syncRuns until the run has finished (a run goes on after runSync answers). */
  const finished = async (id: string): Promise<Run> => {
    for (;;) {
      const response = await graphql<{ syncRuns: Run[] }>(
        stack.gatewayUrl,
        `{ syncRuns(first: 50) { ${RUN_FIELDS} } }`,
        {},
        admin,
      );
      const run = response.body.data?.syncRuns.find((r) => r.id === id);
      if (!run) throw new Error(`run ${id} is not in the history: ${JSON.stringify(response.body)}`);
      if (run.status !== 'RUNNING' && run.status !== 'QUEUED') return run;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    stack = await startTestStack({
      customers: 300,
      responseCache: false,
      ttlSeconds: 0,
      syncs: {
        file: 'syncs/demo.yaml',
        stateFile: ':memory:',
        apiKey: DEMO_API_KEYS['personalization-service'],
      },
    });
  }, 60_000);
  afterAll(() => stack.close());

  it('should list the demo syncs with their destination, mode and schedule', async () => {
    const response = await graphql<{
      syncs: { name: string; destination: string; mode: string; schedule: string | null; lastRun: unknown }[];
    }>(stack.gatewayUrl, '{ syncs { name destination mode schedule lastRun { id } } }', {}, admin);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.syncs).toEqual([
      {
        name: 'vip-customers',
        destination: 'mailchimp-audience',
        mode: 'UPSERT',
        schedule: 'every 1h',
        lastRun: null,
      },
      {
        name: 'lapsed-buyers',
        destination: 'meta-custom-audience',
        mode: 'MIRROR',
        schedule: 'cron 0 6 * * * (Europe/Paris)',
        lastRun: null,
      },
      {
        name: 'commerce-totals',
        destination: 'hubspot-contacts',
        mode: 'UPSERT',
        schedule: 'every 1h',
        lastRun: null,
      },
    ]);
  });

  it('should preview a sync with runSync(dryRun: true): counts and samples, nothing written, no history', async () => {
    type Preview = {
      id: string;
      status: string;
      counts: {
        sourceRows: number;
        inserts: number;
        updates: number;
        removals: number;
        quarantined: number;
        calls: number;
        written: number;
      };
      preview: {
        calls: number;
        samples: { change: string; key: string; record: Record<string, unknown> }[];
        quarantined: { key: string; status: string; code: string }[];
      } | null;
    };
    const before = await recorded(stack.origins.mailchimp);
    const response = await graphql<{ runSync: Preview }>(
      stack.gatewayUrl,
      `
        mutation {
          runSync(name: "vip-customers", dryRun: true) {
            id
            status
            counts {
              sourceRows
              inserts
              updates
              removals
              quarantined
              calls
              written
            }
            preview {
              calls
              samples {
                change
                key
                record
              }
              quarantined {
                key
                status
                code
              }
            }
          }
        }
      `,
      {},
      admin,
    );
    expect(response.body.errors).toBeUndefined();
    const dry = response.body.data?.runSync as Preview;
    expect(dry).toMatchObject({ id: '0', status: 'DRY_RUN' });
    expect(dry.counts.inserts).toBeGreaterThan(0);
    expect(dry.counts).toMatchObject({ updates: 0, removals: 0, calls: 0, written: 0 });
    expect(dry.preview?.calls).toBe(Math.ceil(dry.counts.inserts / 500));
    expect(dry.preview?.samples.length).toBe(Math.min(5, dry.counts.inserts));
    for (const sample of dry.preview?.samples ?? []) {
      expect(sample.change).toBe('INSERT');
      expect(sample.record['email']).toBe(sample.key);
    }
    expect(dry.preview?.quarantined.length).toBe(Math.min(5, dry.counts.quarantined));
    for (const row of dry.preview?.quarantined ?? []) expect(row.status).toBe('QUARANTINED');
    // Nothing reached Mailchimp, and the history has no run.
    expect(await recorded(stack.origins.mailchimp)).toEqual(before);
    const runs = await graphql<{ syncRuns: unknown[] }>(
      stack.gatewayUrl,
      '{ syncRuns(sync: "vip-customers") { id } }',
      {},
      admin,
    );
    expect(runs.body.data?.syncRuns).toEqual([]);
  });

  it('should run a sync with runSync and show the rows Mailchimp refused with syncRunRows(status: FAILED)', async () => {
    const started = await graphql<{ runSync: Run }>(
      stack.gatewayUrl,
      `mutation { runSync(name: "vip-customers") { ${RUN_FIELDS} } }`,
      {},
      admin,
    );
    expect(started.body.errors).toBeUndefined();
    expect(started.body.data?.runSync).toMatchObject({
      sync: 'vip-customers',
      status: 'RUNNING',
      trigger: 'graph',
    });
    const run = await finished(started.body.data?.runSync.id ?? '');
    const calls = await recorded(stack.origins.mailchimp, 'POST /3.0/lists/{listId}');
    expect(run.counts.calls).toBe(calls.length);
    expect(run.status).toBe(run.counts.rejected > 0 ? 'PARTIALLY_FAILED' : 'SUCCEEDED');
    const rows = await graphql<{
      syncRunRows: { key: string; status: string; code: string; reason: string }[];
    }>(
      stack.gatewayUrl,
      'query($id: ID!) { syncRunRows(runId: $id, status: FAILED) { key status code reason } }',
      { id: run.id },
      admin,
    );
    expect(rows.body.errors).toBeUndefined();
    expect(rows.body.data?.syncRunRows.length).toBe(run.counts.rejected);
    for (const row of rows.body.data?.syncRunRows ?? []) {
      expect(row).toMatchObject({ status: 'FAILED', code: 'ERROR_GENERIC' });
      expect(row.reason).toContain(row.key);
    }
    // The sync is a connection of the health model (issue 16), its run counted as a success.
    const health = await graphql<{
      integration: { kind: string; platform: string; window: { calls: number } } | null;
    }>(
      stack.gatewayUrl,
      '{ integration(name: "sync:vip-customers") { kind platform window(span: ONE_HOUR) { calls } } }',
      {},
      admin,
    );
    expect(health.body.data?.integration).toMatchObject({ kind: 'SYNC', platform: 'mailchimp' });
    expect(health.body.data?.integration?.window.calls).toBeGreaterThanOrEqual(1);
  });

  it('should log the end of each run as an event, counts only, for subscribers and alerts', async () => {
    const started = await graphql<{ runSync: Run }>(
      stack.gatewayUrl,
      'mutation { runSync(name: "commerce-totals") { id } }',
      {},
      admin,
    );
    const run = await finished(started.body.data?.runSync.id ?? '');
    type Event = { type: string; source: string; properties: Record<string, unknown> };
    for (;;) {
      const events = await graphql<{ events: { edges: { node: Event }[] } }>(
        stack.gatewayUrl,
        '{ events(first: 50, types: [SYNC_SUCCEEDED, SYNC_FAILED, SYNC_ROWS_REJECTED]) { edges { node { type source properties } } } }',
        {},
        admin,
      );
      expect(events.body.errors).toBeUndefined();
      const ours = (events.body.data?.events.edges ?? [])
        .map((e) => e.node)
        .filter((e) => e.properties['run'] === Number(run.id));
      if (ours.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      expect(ours).toEqual([
        {
          type: 'SYNC_SUCCEEDED',
          source: 'SYNCS',
          properties: expect.objectContaining({
            sync: 'commerce-totals',
            status: run.status,
            written: run.counts.written,
            calls: run.counts.calls,
          }),
        },
      ]);
      return;
    }
  });

  it('should refuse the syncs to a client without syncs:read, and runSync to one without syncs:admin', async () => {
    const read = await graphql(stack.gatewayUrl, '{ syncs { name } }', {}, personalization);
    expect(read.body.data?.['syncs'] ?? null).toBeNull();
    expect(read.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const run = await graphql(
      stack.gatewayUrl,
      'mutation { runSync(name: "vip-customers") { id } }',
      {},
      personalization,
    );
    expect(run.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('should answer an unknown sync with BAD_USER_INPUT', async () => {
    const run = await graphql(stack.gatewayUrl, 'mutation { runSync(name: "nope") { id } }', {}, admin);
    expect(run.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});
