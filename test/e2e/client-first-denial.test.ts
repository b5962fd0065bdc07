import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { parseAlertsFile } from '../../monitoring/alerts/rules.js';
import { startSlackReceiver, type SlackReceiver } from '../helpers/alert-sinks.js';
import { as } from '../helpers/clients.js';
import { eventually } from '../helpers/gateway-process.js';
import { graphql, startTestStack } from '../helpers/stack.js';

/**
 * Issue 16: "a scope or field denied for the first time". Real requests through the gateway: the
 * reporting dashboard (campaign and ads scopes) asks for a customer, is denied, and the
 * `client-denied-first-time` rule fires once, then resolves after its quiet period. The same
 * denial again, even after the gateway restarts on the same data file, is not new (the first-seen
 * set is in the health history); a field it was never denied fires again. The client is a row of
 * `integrations` (kind CLIENT) with its refused requests.
 */
describe('alert on a field denied to a client for the first time, end to end', () => {
  let stack: Stack | undefined;
  let slack: SlackReceiver;
  const file = join(mkdtempSync(join(tmpdir(), 'first-denial-')), 'events.db');
  const texts = () => (slack.received as { text: string }[]).map((m) => m.text);
  const rules = parseAlertsFile(
    `
channels:
  ops: { type: slack, webhookUrlEnv: OPS_SLACK_URL }
rules:
  - name: client denied a new field
    when: { kind: client-denied-first-time, quiet: 2s }
    connections: { kinds: [client] }
    severity: info
    channels: [ops]
    clearFor: 0s
    cooldown: 0s
`,
    'test',
  );
  const start = () =>
    startTestStack({
      customers: 10,
      rateLimits: false,
      events: { log: { kind: 'sqlite', file } },
      alerts: { rules, intervalMs: 100, retryMs: [50], env: { OPS_SLACK_URL: slack.url } },
    });

  beforeAll(async () => {
    slack = await startSlackReceiver();
    stack = await start();
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
  });

  const ask = async (query: string) => {
    const response = await graphql<Record<string, unknown>>(
      stack!.gatewayUrl,
      query,
      {},
      as('reporting-dashboard'),
    );
    return response.body.errors?.map((error) => error.extensions?.['code']) ?? [];
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));

  it('should fire once on the first denial, resolve when quiet, and stay quiet on the same denial', async () => {
    expect(await ask('{ customer(email: "someone@example.com") { email } }')).toEqual(['FORBIDDEN']);
    await eventually(
      () => Promise.resolve(texts()),
      (t) => t.length >= 2,
    );
    expect(texts()).toEqual([
      expect.stringMatching(
        /^FIRING: client denied a new field \(client:reporting-dashboard: denied for the first time: Query\.customer \(in the last 2 s\)\)$/,
      ),
      expect.stringMatching(
        /^RESOLVED: client denied a new field \(client:reporting-dashboard: no new denial/,
      ),
    ]);

    // The same field again: known, no notice.
    expect(await ask('{ customer(email: "someone@example.com") { email } }')).toEqual(['FORBIDDEN']);
    await settle();
    expect(texts()).toHaveLength(2);

    // The client is a connection of the health model: its refused request is counted.
    const rows = await graphql<{
      integrations: {
        name: string;
        kind: string;
        window: { calls: number; errorsByClass: { errorClass: string; count: number }[] };
      }[];
    }>(
      stack!.gatewayUrl,
      '{ integrations { name kind window(span: ONE_HOUR) { calls errorsByClass { errorClass count } } } }',
      {},
      as('admin'),
    );
    const client = rows.body.data?.integrations.find((row) => row.name === 'client:reporting-dashboard');
    expect(client).toMatchObject({
      kind: 'CLIENT',
      window: { calls: 2, errorsByClass: [{ errorClass: 'denied', count: 2 }] },
    });
  });

  it('should remember the denial across a restart, and fire on a field never denied before', async () => {
    await stack!.close();
    stack = await start();
    expect(await ask('{ customer(email: "someone@example.com") { email } }')).toEqual(['FORBIDDEN']);
    await settle();
    expect(texts()).toHaveLength(2);

    expect(await ask('{ integrations { name } }')).toEqual(['FORBIDDEN']);
    await eventually(
      () => Promise.resolve(texts()),
      (t) => t.length >= 3,
    );
    expect(texts()[2]).toMatch(
      /^FIRING: client denied a new field \(client:reporting-dashboard: denied for the first time: Query\.integrations /,
    );
  });
});
