import { ConfigError } from '../lib/config/env.js';
import { EventLogOpenError } from '../lib/events/log/errors.js';
import { openEventLog, type EventLogSettings } from '../lib/events/log/open.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';

/**
 * Opens the configured event log, or stops start-up (exit 2) naming the variable at fault and
 * what is wrong, like any other configuration error: a data directory that is a file or cannot be
 * written, a Redis that does not answer. The gateway does not start without its log: it could not
 * acknowledge a single webhook, and a wrong REDIS_URL is better found at deploy time than as
 * 503s. (Once running, an outage of the log is answered with 503s until it is back.)
 */
export async function openConfiguredEventLog(settings: EventLogSettings, logger: Logger): Promise<EventLog> {
  try {
    return await openEventLog(settings, logger);
  } catch (error) {
    if (!(error instanceof EventLogOpenError)) throw error;
    if (error.setting === 'data-dir') throw new ConfigError([`DATA_DIR: ${error.message}`]);
    throw new ConfigError(
      [
        `REDIS_URL: the event log (EVENT_LOG=redis) ${error.message}. Check that Redis is running and that REDIS_URL points at it; the gateway does not start without its event log`,
      ],
      'Cannot start',
    );
  }
}
