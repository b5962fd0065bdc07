import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { LOOPBACK_ALLOW_LIST } from '../../events/deliveries-config.js';
import { parseAlertsFile } from '../../monitoring/alerts/rules.js';
import {
  startSlackReceiver,
  startSmtpSink,
  type SlackReceiver,
  type SmtpSink,
} from '../helpers/alert-sinks.js';
import { as } from '../helpers/clients.js';
import { eventually } from '../helpers/gateway-process.js';
import { startTestStack } from '../helpers/stack.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Issue 16, done when: a platform's sandbox starts failing, its row turns red in `integrations`,
 * and a Slack-format and an email alert fire; when the platform recovers, both say it resolved.
 * The same notices reach an outbound webhook endpoint through the `events` channel, as signed
 * deliveries of ALERT_FIRED and ALERT_RESOLVED. Real parts: the whole stack over HTTP, a local
 * Slack-style webhook receiver, a local SMTP server, a local endpoint.
 */
describe('alerts on a failing platform, end to end', () => {
  let stack: Stack;
  let slack: SlackReceiver;
  let smtp: SmtpSink;
  let endpoint: WebhookReceiver;
  // What the receivers got, as the assertions read them.
  const slackMessages = () => slack.received as { text: string }[];
  const mails = () => smtp.mails.map((mail) => ({ subject: mail.subject ?? '' }));

  beforeAll(async () => {
    slack = await startSlackReceiver();
    smtp = await startSmtpSink();
    endpoint = await startReceiver();
    const rules = parseAlertsFile(
      `
channels:
  ops: { type: slack, webhookUrlEnv: OPS_SLACK_URL }
  oncall: { type: email, from: alerts@example.com, to: [oncall@example.com], smtpUrlEnv: ONCALL_SMTP_URL }
  hooks: { type: events }
rules:
  - name: commerce platform failing
    when: { kind: error-rate-above, threshold: 0.2 }
    connections: { kinds: [platform], platforms: [shopify] }
    severity: critical
    channels: [ops, oncall, hooks]
    for: 0s
    clearFor: 1s
`,
      'test',
    );
    stack = await startTestStack({
      customers: 40,
      rateLimits: false,
      responseCache: false,
      ttlSeconds: 1,
      upstreamMaxRetries: 0,
      events: {
        webhookDeliveries: { allowHttp: true, allow: [...LOOPBACK_ALLOW_LIST], retryScheduleMs: [0, 50] },
      },
      alerts: {
        rules,
        intervalMs: 200,
        retryMs: [50, 50],
        env: {
          OPS_SLACK_URL: slack.url,
          ONCALL_SMTP_URL: smtp.url,
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
    await smtp?.close();
    await endpoint?.close();
  });

  const ordersOf = (index: number) =>
    fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('personalization-service', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query: `{ customer(email: "${stack.world.customers[index]!.person.email}") { ordersCount } }`,
      }),
    }).then((r) => r.json());
  const shopifyStatus = async () => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/json' }),
      body: JSON.stringify({ query: '{ integration(name: "shopify") { status errorRate } }' }),
    });
    return ((await response.json()) as { data: { integration: { status: string } | null } }).data.integration
      ?.status;
  };

  it('should turn the row red and fire to Slack, email and an endpoint, then resolve when calls succeed again', async () => {
    const created = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query:
          'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
        variables: { input: { url: endpoint.url, eventTypes: ['ALERT_FIRED', 'ALERT_RESOLVED'] } },
      }),
    }).then((r) => r.json() as Promise<{ errors?: unknown }>);
    expect(created.errors).toBeUndefined();
    for (let i = 0; i < 3; i++) await ordersOf(i); // healthy calls first
    stack.sandboxes.shopify.faults.set({ errorRate: 1, errorStatus: 503 });
    for (let i = 3; i < 6; i++) await ordersOf(i); // 3 of 6 calls fail: 50%, breaker still closed
    expect(await shopifyStatus()).toBe('DOWN');
    await eventually(
      () => Promise.resolve(slackMessages().length + mails().length),
      (count) => count >= 2,
    );
    // The figure is the one read at the evaluation that fired (every 200 ms here), between 25% and 50%.
    expect(slackMessages()).toHaveLength(1);
    expect(slackMessages()[0]!.text).toMatch(
      /^FIRING: commerce platform failing \(shopify: (25|33\.3|40|50)% failing \(threshold 20%\)\)$/,
    );
    expect(mails().map((m) => m.subject)).toEqual(['[FIRING][critical] commerce platform failing: shopify']);

    stack.sandboxes.shopify.faults.set({});
    for (let i = 6; i < 26; i++) await ordersOf(i); // 3 failures in 26 calls: 11.5%, under the 16% clearing margin
    await eventually(
      () => Promise.resolve(slackMessages().length + mails().length),
      (count) => count >= 4,
    );
    expect(slackMessages().map((m) => m.text.split(' (')[0])).toEqual([
      'FIRING: commerce platform failing',
      'RESOLVED: commerce platform failing',
    ]);
    expect(mails().map((m) => m.subject)).toEqual([
      '[FIRING][critical] commerce platform failing: shopify',
      '[RESOLVED][critical] commerce platform failing: shopify',
    ]);
    expect(stack.alerts?.firing()).toEqual([]);

    // The endpoint: the same two notices as signed Standard Webhooks deliveries.
    await endpoint.waitFor(2);
    const delivered = endpoint.received.map((hook) => ({
      signed: /^v1,/.test(String(hook.headers['webhook-signature'])),
      ...(JSON.parse(hook.body) as {
        type: string;
        data: { source: string; properties: { rule: string; connection: string; severity: string } };
      }),
    }));
    expect(
      delivered.map((hook) => [hook.signed, hook.type, hook.data.source, hook.data.properties.connection]),
    ).toEqual([
      [true, 'ALERT_FIRED', 'monitoring', 'shopify'],
      [true, 'ALERT_RESOLVED', 'monitoring', 'shopify'],
    ]);
    expect(delivered[0]!.data.properties).toMatchObject({
      rule: 'commerce platform failing',
      severity: 'critical',
    });
  });
});
