import { request } from 'undici';
import type { AlertNotice } from '../engine.js';
import { SendFailure, type AlertChannel } from './channel.js';

/** Slack's Block Kit message for a notice: header, the connection's figures, the last error, a link to /status. */
export function slackMessage(notice: AlertNotice, statusUrl: string): object {
  const firing = notice.state === 'firing';
  const title = `${firing ? 'FIRING' : 'RESOLVED'}: ${notice.rule}`;
  const fields = [
    { type: 'mrkdwn', text: `*Connection*\n${notice.connection}` },
    { type: 'mrkdwn', text: `*Severity*\n${notice.severity}` },
    { type: 'mrkdwn', text: `*Figure*\n${notice.summary}` },
    { type: 'mrkdwn', text: `*${firing ? 'Since' : 'Fired at'}*\n${notice.firedAt}` },
  ];
  const blocks: object[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: `${firing ? ':red_circle:' : ':large_green_circle:'} ${title}`,
        emoji: true,
      },
    },
    { type: 'section', fields },
  ];
  if (firing && notice.lastError)
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Last error at ${notice.lastError.at}: \`${notice.lastError.code}\` ${notice.lastError.message}`,
        },
      ],
    });
  blocks.push({
    type: 'actions',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Open the status page' }, url: statusUrl },
    ],
  });
  // `text` is the notification's fallback (phones, screen readers) when blocks are given.
  return { text: `${title} (${notice.connection}: ${notice.summary})`, blocks };
}

/**
 * A Slack incoming webhook (`https://hooks.slack.com/services/...`). Slack answers 200 `ok`;
 * 429 with `Retry-After` and 5xx are retried by the notifier, other 4xx (`invalid_payload`,
 * `no_service`: a revoked webhook) are not.
 */
export function slackChannel(
  name: string,
  webhookUrl: string,
  statusUrl: string,
  timeoutMs = 10_000,
): AlertChannel {
  return {
    name,
    type: 'slack',
    async send(notice) {
      const response = await request(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(slackMessage(notice, statusUrl)),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }).catch((error: unknown) => {
        throw new SendFailure(
          `Slack did not answer (${(error as { code?: string }).code ?? 'network error'})`,
          true,
        );
      });
      const body = (await response.body.text()).slice(0, 200);
      if (response.statusCode === 200) return;
      const retryAfter = Number(response.headers['retry-after']);
      throw new SendFailure(
        `Slack answered ${response.statusCode} ${body}`,
        response.statusCode === 429 || response.statusCode >= 500,
        Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
      );
    },
  };
}
