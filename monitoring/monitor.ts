import type { ClientUsage } from '../gateway/auth/anomaly.js';
import type { Logger } from '../lib/logger.js';
import { buildChannels } from './alerts/channels/index.js';
import type { AlertEventSink } from './alerts/channels/events.js';
import { AlertEngine, type AlertNotice } from './alerts/engine.js';
import { AlertNotifier } from './alerts/notifier.js';
import type { AlertsFile } from './alerts/rules.js';
import { clientHealthOf } from './client-usage.js';
import { connectionHealthOf, integrations } from './health-model.js';

export interface AlertMonitorOptions {
  rules: AlertsFile;
  /** Where the notices' "status page" links point. */
  statusUrl: string;
  /** The environment the channels' secrets are read from. */
  env: NodeJS.ProcessEnv;
  /** How often the rules are evaluated. @default 15000 */
  intervalMs?: number;
  /** Delays between a failed notice's attempts. @default DEFAULT_NOTIFY_RETRY_MS */
  retryMs?: readonly number[];
  /** The event log's append, for the alerts file's `events` channels. @default none: such a channel is refused */
  events?: AlertEventSink;
  /**
   * The gateway's clients' usage (its anomaly detector), for the `client` rules.
   * @default none: client rules never fire
   */
  clients?: () => readonly ClientUsage[];
  logger: Logger;
}

export interface AlertMonitor {
  /** Evaluates the rules now (the timer does it every `intervalMs`). */
  evaluate(): AlertNotice[];
  /** The last 50 notices, newest first, for `/status`. */
  recent(): readonly AlertNotice[];
  firing(): ReturnType<AlertEngine['firing']>;
  stop(): void;
}

const RECENT = 50;

/**
 * Evaluates the alert rules over this process's health model on a timer and hands the notices to
 * the notifier, which sends them in the background. Starting it checks the channels' secrets, so
 * a missing Slack URL stops start-up rather than the first alert.
 */
export function startAlertMonitor(options: AlertMonitorOptions): AlertMonitor {
  const channels = buildChannels(options.rules.channels, options.env, options.statusUrl, options.events);
  const engine = new AlertEngine(options.rules.rules);
  const notifier = new AlertNotifier(channels.channels, {
    logger: options.logger,
    ...(options.retryMs ? { retryMs: options.retryMs } : {}),
  });
  const recent: AlertNotice[] = [];
  const evaluate = () => {
    const now = Date.now();
    const recorded = integrations(now).map(connectionHealthOf);
    const byName = new Map(recorded.map((health) => [health.name, health]));
    // A client is one connection: the health model's row with the anomaly detector's figures.
    const clients = (options.clients?.() ?? []).map((usage) => {
      const row = byName.get(`client:${usage.client}`);
      if (row) byName.delete(row.name);
      return clientHealthOf(usage, row);
    });
    const snapshot = [...byName.values(), ...clients];
    const notices = engine.evaluate(snapshot, now);
    if (notices.length > 0) {
      recent.unshift(...notices.reverse());
      recent.splice(RECENT);
      notifier.notify(notices);
    }
    return notices;
  };
  const timer = setInterval(() => {
    try {
      evaluate();
    } catch (error) {
      options.logger.error({ err: error }, 'evaluating the alert rules failed');
    }
  }, options.intervalMs ?? 15_000);
  timer.unref();
  return {
    evaluate,
    recent: () => recent,
    firing: () => engine.firing(),
    stop() {
      clearInterval(timer);
      notifier.stop();
      channels.close();
    },
  };
}
