import { ConfigError } from '../../../lib/config/env.js';
import { registerSecret } from '../../../lib/logger.js';
import type { ChannelConfig } from '../rules.js';
import type { AlertChannel } from './channel.js';
import { emailChannel } from './email.js';
import { eventsChannel, type AlertEventSink } from './events.js';
import { slackChannel } from './slack.js';

/** The log channel: the notice as a log line (the notifier logs each notice already); always works. */
function logChannel(name: string): AlertChannel {
  return { name, type: 'log', send: () => Promise.resolve() };
}

/**
 * The alerts file's channels, with their secrets read from the variables the file names (a Slack
 * webhook URL and an SMTP URL with its password are secrets: they stay out of the file and of every
 * log line). A missing variable stops start-up naming the channel and the variable.
 */
export function buildChannels(
  configs: Record<string, ChannelConfig>,
  env: NodeJS.ProcessEnv,
  statusUrl: string,
  /** The event log's append, for `events` channels; absent where this process has no event pipeline. */
  events?: AlertEventSink,
): { channels: Map<string, AlertChannel>; close(): void } {
  const problems: string[] = [];
  const channels = new Map<string, AlertChannel>();
  const closers: (() => void)[] = [];
  const read = (channel: string, variable: string): string | undefined => {
    const value = env[variable]?.trim();
    if (!value) problems.push(`channel "${channel}" needs ${variable}, which is not set`);
    else registerSecret(value);
    return value;
  };
  for (const [name, config] of Object.entries(configs)) {
    switch (config.type) {
      case 'slack': {
        const url = read(name, config.webhookUrlEnv);
        if (url) channels.set(name, slackChannel(name, url, statusUrl));
        break;
      }
      case 'email': {
        const smtpUrl = read(name, config.smtpUrlEnv);
        if (smtpUrl) {
          const channel = emailChannel(name, { smtpUrl, from: config.from, to: config.to, statusUrl });
          channels.set(name, channel);
          closers.push(() => channel.close());
        }
        break;
      }
      case 'log':
        channels.set(name, logChannel(name));
        break;
      case 'events':
        if (events) channels.set(name, eventsChannel(name, events));
        else
          problems.push(
            `channel "${name}" (events) needs the event pipeline, which this process does not run`,
          );
        break;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, 'Invalid alert channels');
  return { channels, close: () => closers.forEach((close) => close()) };
}

export type { AlertChannel } from './channel.js';
