import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { parseAlertsFile } from '../../monitoring/alerts/rules.js';
import { startSlackReceiver, type SlackReceiver } from '../helpers/alert-sinks.js';
import { as } from '../helpers/clients.js';
import { eventually } from '../helpers/gateway-process.js';
import { startTestStack } from '../helpers/stack.js';

const WINDOW_MS = 2_000;

/**
 * Issue 16's "anomalous client usage from the least-privilege work": real requests through the
 * gateway feed its anomaly detector, and the alert rules read each client's figures as a `client`
 * connection. A burst of requests, then a burst of queries for fields the client was never granted,
 * each fire their own rule and resolve once the client is back to its usual rate. The detector's
 * window is 2 s here (a minute in production) so the test runs in seconds.
 */
describe('alerts on anomalous client usage, end to end', () => {
  let stack: Stack;
  let slack: SlackReceiver;
  const texts = () => (slack.received as { text: string }[]).map((m) => m.text);

  beforeAll(async () => {
    slack = await startSlackReceiver();
    const rules = parseAlertsFile(
      `
channels:
  ops: { type: slack, webhookUrlEnv: OPS_SLACK_URL }
rules:
  - name: client request spike
    when: { kind: client-usage-anomalous, signals: [requests], factor: 5, minimum: 20 }
    connections: { kinds: [client] }
    severity: warning
    channels: [ops]
    clearFor: 0s
  - name: client probing for fields
    when: { kind: client-usage-anomalous, signals: [denied_fields], minimum: 5 }
    connections: { kinds: [client] }
    severity: critical
    channels: [ops]
    clearFor: 0s
`,
      'test',
    );
    stack = await startTestStack({
      customers: 10,
      rateLimits: false,
      anomalies: { windowMs: WINDOW_MS },
      alerts: { rules, intervalMs: 100, retryMs: [50], env: { OPS_SLACK_URL: slack.url } },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
  });

  const post = (query: string) =>
    fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('reporting-dashboard', { 'content-type': 'application/json' }),
      body: JSON.stringify({ query }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { errors?: { extensions?: { code?: string } }[] },
    }));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('should fire on a burst of requests over the client’s usual rate, and resolve when it is back', async () => {
    // The usual rate: two requests a window for three windows.
    for (let window = 0; window < 3; window++) {
      await post('{ __typename }');
      await post('{ __typename }');
      await sleep(WINDOW_MS);
    }
    expect(texts()).toEqual([]);
    const burst = await Promise.all(Array.from({ length: 60 }, () => post('{ __typename }')));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    await eventually(
      () => Promise.resolve(texts()),
      (t) => t.length >= 1,
    );
    expect(texts()[0]).toMatch(
      /^FIRING: client request spike \(client:reporting-dashboard: requests: \d+ in 2 s, usually [\d.]+ \(threshold [\d.]+\)\)$/,
    );
    // Quiet for two windows: the burst's window and the one after it are behind.
    await eventually(
      () => Promise.resolve(texts()),
      (t) => t.length >= 2,
    );
    expect(texts()[1]).toMatch(/^RESOLVED: client request spike \(client:reporting-dashboard: /);
    expect(stack.alerts?.firing()).toEqual([]);
  });

  it('should fire on a client asking for fields it was never granted, and only that rule', async () => {
    const before = texts().length;
    // `reporting-dashboard` holds campaigns and ads scopes: a customer's email is denied to it.
    const denied = await Promise.all(
      Array.from({ length: 12 }, () => post('{ customer(email: "someone@example.com") { email } }')),
    );
    expect(denied.map((r) => r.body.errors?.[0]?.extensions?.code)).toEqual(Array(12).fill('FORBIDDEN'));
    await eventually(
      () => Promise.resolve(texts().slice(before)),
      (t) => t.length >= 2,
    );
    expect(texts().slice(before)).toEqual([
      expect.stringMatching(
        /^FIRING: client probing for fields \(client:reporting-dashboard: denied fields: \d+ in 2 s, usually 0 \(threshold 5\)\)$/,
      ),
      expect.stringMatching(/^RESOLVED: client probing for fields \(client:reporting-dashboard: /),
    ]);
  });
});
