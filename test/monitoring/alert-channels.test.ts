import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config/env.js';
import { buildChannels } from '../../monitoring/alerts/channels/index.js';
import type { AlertChannel } from '../../monitoring/alerts/channels/channel.js';
import type { AlertNotice } from '../../monitoring/alerts/engine.js';
import { AlertNotifier } from '../../monitoring/alerts/notifier.js';
import { parseAlertsFile } from '../../monitoring/alerts/rules.js';
import { startSlackReceiver, startSmtpSink, type SmtpSink } from '../helpers/alert-sinks.js';
import { silentLogger } from '../helpers/context.js';

/**
 * Issue 16, alert channels against real local servers: a Slack incoming webhook (Block Kit), email
 * over SMTP (nodemailer to the `smtp-server` package, read back with mailparser), retries that honour
 * Slack's Retry-After, no retry of a refused webhook, and a channel that hangs never holding up
 * another or the caller.
 */
const STATUS_URL = 'http://127.0.0.1:4000/status';
const FILE = parseAlertsFile(
  `
channels:
  ops: { type: slack, webhookUrlEnv: TEST_SLACK_URL }
  oncall: { type: email, from: alerts@example.com, to: [oncall@example.com], smtpUrlEnv: TEST_SMTP_URL }
rules: []
`,
  'test',
);

const notice = (state: AlertNotice['state'], channels = ['ops', 'oncall']): AlertNotice => ({
  rule: 'platform errors',
  connection: 'hubspot',
  kind: 'platform',
  platform: 'hubspot',
  severity: 'critical',
  state,
  at: '2026-12-04T12:05:00.000Z',
  firedAt: '2026-12-04T12:03:00.000Z',
  summary: '20% failing (threshold 5%)',
  channels,
  lastError: {
    at: '2026-12-04T12:02:59.000Z',
    code: 'UPSTREAM_UNAVAILABLE',
    message: 'hubspot answered 503',
  },
});

describe('alert channels', () => {
  let smtp: SmtpSink;
  const mails = () => smtp.mails;

  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it('should post a Block Kit message to Slack and an email over SMTP for a firing and a resolved alert', async () => {
    const slack = await startSlackReceiver();
    const built = buildChannels(
      FILE.channels,
      { TEST_SLACK_URL: slack.url, TEST_SMTP_URL: smtp.url },
      STATUS_URL,
    );
    const notifier = new AlertNotifier(built.channels, { logger: silentLogger, retryMs: [10] });
    try {
      smtp.mails.length = 0;
      notifier.notify([notice('firing')]);
      notifier.notify([notice('resolved')]);
      await notifier.idle();
      expect(slack.received).toHaveLength(2);
      const firing = slack.received[0] as { text: string; blocks: { type: string; [k: string]: unknown }[] };
      expect(firing.text).toBe('FIRING: platform errors (hubspot: 20% failing (threshold 5%))');
      expect(firing.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context', 'actions']);
      expect(firing.blocks[1]).toEqual({
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Connection*\nhubspot' },
          { type: 'mrkdwn', text: '*Severity*\ncritical' },
          { type: 'mrkdwn', text: '*Figure*\n20% failing (threshold 5%)' },
          { type: 'mrkdwn', text: '*Since*\n2026-12-04T12:03:00.000Z' },
        ],
      });
      expect(firing.blocks[3]).toEqual({
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Open the status page' }, url: STATUS_URL },
        ],
      });
      expect((slack.received[1] as { text: string }).text).toMatch(/^RESOLVED: platform errors/);

      expect(mails().map((m) => m.subject)).toEqual([
        '[FIRING][critical] platform errors: hubspot',
        '[RESOLVED][critical] platform errors: hubspot',
      ]);
      expect(mails()[0]!.text).toContain('Last error: UPSTREAM_UNAVAILABLE hubspot answered 503');
      expect(mails()[0]!.text).toContain(`Status page: ${STATUS_URL}`);
      expect(mails()[1]!.text).toContain('Resolved at: 2026-12-04T12:05:00.000Z');
    } finally {
      notifier.stop();
      built.close();
      await slack.close();
    }
  });

  it('should retry Slack after a 429 (its Retry-After) and a 500, and not retry a refused webhook', async () => {
    const flaky = await startSlackReceiver([
      { status: 429, headers: { 'retry-after': '0' }, body: 'rate_limited' },
      { status: 500, body: 'oops' },
    ]);
    const revoked = await startSlackReceiver([{ status: 404, body: 'no_service' }]);
    const configs = {
      flaky: FILE.channels['ops']!,
      revoked: { type: 'slack' as const, webhookUrlEnv: 'TEST_REVOKED' },
    };
    const built = buildChannels(
      configs,
      { TEST_SLACK_URL: flaky.url, TEST_REVOKED: revoked.url },
      STATUS_URL,
    );
    const notifier = new AlertNotifier(built.channels, { logger: silentLogger, retryMs: [10, 10, 10] });
    try {
      notifier.notify([notice('firing', ['flaky', 'revoked'])]);
      await notifier.idle();
      expect(flaky.received).toHaveLength(3);
      expect(revoked.received).toHaveLength(1);
    } finally {
      notifier.stop();
      await flaky.close();
      await revoked.close();
    }
  });

  it('should not let a channel that hangs hold up the caller or another channel', async () => {
    let hung = 0;
    const hanging: AlertChannel = {
      name: 'hanging',
      type: 'slack',
      send: () => {
        hung += 1;
        return new Promise(() => undefined);
      },
    };
    const sent: string[] = [];
    const working: AlertChannel = {
      name: 'log',
      type: 'log',
      send: (n) => Promise.resolve(void sent.push(n.state)),
    };
    const notifier = new AlertNotifier(
      new Map([
        ['hanging', hanging],
        ['log', working],
      ]),
      { logger: silentLogger },
    );
    try {
      notifier.notify([notice('firing', ['hanging', 'log'])]); // returns at once: nothing awaited
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(hung).toBe(1);
      expect(sent).toEqual(['firing']);
    } finally {
      notifier.stop();
    }
  });

  it('should refuse to start when a channel’s secret variable is missing, naming both', () => {
    expect(() => buildChannels(FILE.channels, {}, STATUS_URL)).toThrow(ConfigError);
    try {
      buildChannels(FILE.channels, {}, STATUS_URL);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'channel "ops" needs TEST_SLACK_URL, which is not set',
        'channel "oncall" needs TEST_SMTP_URL, which is not set',
      ]);
    }
  });

  it('should turn a notice into an ALERT_FIRED event for the events channel, and refuse the channel without an event pipeline', async () => {
    const appended: unknown[] = [];
    const configs = { hooks: { type: 'events' as const } };
    const built = buildChannels(configs, {}, STATUS_URL, (events) => {
      appended.push(...events);
      return Promise.resolve();
    });
    await built.channels.get('hooks')!.send(notice('firing', ['hooks']));
    expect(appended).toEqual([
      expect.objectContaining({ type: 'ALERT_FIRED', source: 'monitoring', customer: null }),
    ]);
    expect(() => buildChannels(configs, {}, STATUS_URL)).toThrow(
      /channel "hooks" \(events\) needs the event pipeline/,
    );
  });
});
