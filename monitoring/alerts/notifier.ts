import type { Logger } from '../../lib/logger.js';
import { Counter } from '../../lib/metrics.js';
import type { AlertNotice } from './engine.js';
import { SendFailure, type AlertChannel } from './channels/channel.js';

export const alertMetrics = {
  notices: new Counter(
    'alert_notices_total',
    'Alert notices raised, by severity and state (firing, resolved).',
    ['severity', 'state'],
  ),
  sends: new Counter(
    'alert_notifications_total',
    'Alert notices sent to a channel, by channel type and outcome (sent, retried, failed, dropped).',
    ['channel', 'outcome'],
  ),
};

/** Svix-like backoff for notices: at once, then 5 s, 30 s, 2 min, 10 min. */
export const DEFAULT_NOTIFY_RETRY_MS = [5_000, 30_000, 120_000, 600_000] as const;

interface Job {
  notice: AlertNotice;
  channel: AlertChannel;
  attempt: number;
}

/**
 * Sends notices to their channels in the background. `notify` returns at once: a channel that is
 * slow or down never blocks the evaluation or the data path. A failed send is retried with backoff
 * (honouring Slack's Retry-After) unless the channel refused it for good; at most `maxQueued`
 * notices wait, beyond which the oldest is dropped and counted (an outage of Slack must not grow
 * memory without bound).
 */
export class AlertNotifier {
  private queued = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly channels: ReadonlyMap<string, AlertChannel>,
    private readonly options: { logger: Logger; retryMs?: readonly number[]; maxQueued?: number },
  ) {}

  notify(notices: readonly AlertNotice[]): void {
    for (const notice of notices) {
      alertMetrics.notices.inc({ severity: notice.severity, state: notice.state });
      this.options.logger[notice.state === 'firing' ? 'warn' : 'info'](
        {
          alert: notice.rule,
          connection: notice.connection,
          severity: notice.severity,
          summary: notice.summary,
        },
        notice.state === 'firing' ? 'alert firing' : 'alert resolved',
      );
      for (const name of notice.channels) {
        const channel = this.channels.get(name);
        if (channel) this.enqueue({ notice, channel, attempt: 0 }, 0);
      }
    }
  }

  private enqueue(job: Job, delayMs: number): void {
    if (this.stopped) return;
    if (this.queued >= (this.options.maxQueued ?? 1_000)) {
      alertMetrics.sends.inc({ channel: job.channel.type, outcome: 'dropped' });
      this.options.logger.error(
        { channel: job.channel.name, alert: job.notice.rule },
        'alert notice dropped: queue full',
      );
      return;
    }
    this.queued += 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.queued -= 1;
      const sending = this.send(job).finally(() => this.inFlight.delete(sending));
      this.inFlight.add(sending);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async send(job: Job): Promise<void> {
    try {
      await job.channel.send(job.notice);
      alertMetrics.sends.inc({ channel: job.channel.type, outcome: 'sent' });
    } catch (error) {
      const failure = error instanceof SendFailure ? error : new SendFailure(String(error), true);
      const schedule = this.options.retryMs ?? DEFAULT_NOTIFY_RETRY_MS;
      const nextDelay = schedule[job.attempt];
      const log = {
        channel: job.channel.name,
        alert: job.notice.rule,
        attempt: job.attempt + 1,
        reason: failure.message,
      };
      if (failure.retryable && nextDelay !== undefined) {
        alertMetrics.sends.inc({ channel: job.channel.type, outcome: 'retried' });
        this.options.logger.warn(log, 'alert notice not sent; retrying');
        this.enqueue({ ...job, attempt: job.attempt + 1 }, Math.max(nextDelay, failure.retryAfterMs ?? 0));
      } else {
        alertMetrics.sends.inc({ channel: job.channel.type, outcome: 'failed' });
        this.options.logger.error(log, 'alert notice not sent');
      }
    }
  }

  /** Resolves when nothing is waiting or being sent (tests). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.inFlight.size > 0) {
      await Promise.all([...this.inFlight]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queued = 0;
  }
}
