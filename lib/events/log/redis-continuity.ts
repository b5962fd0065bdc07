import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { redisLogMetrics } from './metrics.js';

export { redisLogMetrics };

const ensureReply = z.tuple([z.string(), z.number()]);

/**
 * Keeps the Redis log usable across Redis restarts. A Redis without persistence comes back empty:
 * the consumer group is gone with everything else, and without it no processor can claim the
 * events acknowledged after the restart (every XREADGROUP answers NOGROUP). So after each
 * reconnection, and on a NOGROUP, the group is put back (from the start of the inbox: what was
 * appended since the restart is handed out too), and a changed `generation` key, set once per
 * log, tells this instance that Redis lost the log: said once, as an error, and counted.
 */
export interface RedisContinuity {
  /** At open: creates the group if needed and remembers the log's generation. */
  open(): Promise<void>;
  /** After a reconnection or a NOGROUP. Concurrent calls share one check. */
  recover(trigger: 'reconnected' | 'NOGROUP'): Promise<void>;
}

export function redisContinuity(options: {
  /** Runs ENSURE_GROUP with a generation id for a log that has none. */
  ensureGroup(newGeneration: string): Promise<unknown>;
  logger: Logger;
}): RedisContinuity {
  let generation: string | undefined;
  let recovering: Promise<void> | undefined;
  const ensure = async () => ensureReply.parse(await options.ensureGroup(randomUUID())) as [string, number];

  return {
    async open() {
      [generation] = await ensure();
    },
    recover(trigger) {
      recovering ??= (async () => {
        const [current, created] = await ensure();
        if (generation !== undefined && current !== generation) {
          redisLogMetrics.resets.inc();
          options.logger.error(
            { trigger },
            'the Redis event log lost its content (Redis restarted without persistence): events acknowledged before, not yet processed, are lost, and so are the delivered events and dead letters; new events are processed as usual. Turn on AOF persistence (README, Reliability)',
          );
        } else if (created === 1) {
          options.logger.warn({ trigger }, 'the Redis event log consumer group was missing; recreated it');
        }
        generation = current;
      })().finally(() => {
        recovering = undefined;
      });
      return recovering;
    },
  };
}

const configReply = z.array(z.string());

/**
 * Says once, at open, when this Redis would lose the log on a restart (`appendonly no`). CONFIG is
 * often disabled (managed Redis, renamed commands, ACLs): then it says it could not check.
 */
export async function checkPersistence(
  send: (args: string[]) => Promise<unknown>,
  logger: Logger,
): Promise<void> {
  const setting = async (name: string): Promise<string | undefined> => {
    const reply = configReply.parse(await send(['CONFIG', 'GET', name]));
    return reply[1];
  };
  let settings: { appendonly?: string | undefined; appendfsync?: string | undefined };
  try {
    settings = { appendonly: await setting('appendonly'), appendfsync: await setting('appendfsync') };
  } catch (error) {
    logger.info(
      { reason: error instanceof Error ? error.message : String(error) },
      'could not read Redis persistence settings (CONFIG GET is refused); make sure AOF persistence (appendonly yes) is on, or a Redis restart loses the event log',
    );
    return;
  }
  if (settings.appendonly !== 'yes') {
    logger.warn(
      settings,
      'Redis has no AOF persistence (appendonly no): a Redis restart loses the event log, acknowledged webhooks not yet processed included. Set appendonly yes with appendfsync everysec or always (README, Reliability)',
    );
  } else {
    logger.info(settings, 'Redis persists the event log (AOF)');
  }
}
