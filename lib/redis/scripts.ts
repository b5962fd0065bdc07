import { createHash } from 'node:crypto';
import type { RedisClient } from './shared-client.js';

/** A Lua script and its SHA-1, for EVALSHA with EVAL when Redis does not know it yet. */
export class RedisScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * Runs `script` by its SHA-1, sending the source (EVAL, which caches it) only when Redis answers
 * NOSCRIPT: a new or restarted server, or one whose scripts were flushed. Every other error is the
 * caller's.
 */
export async function runScript(
  client: RedisClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await client.sendCommand(['EVALSHA', script.sha, ...tail]);
  } catch (error) {
    if (!(error instanceof Error ? error.message : String(error)).startsWith('NOSCRIPT')) throw error;
    return client.sendCommand(['EVAL', script.source, ...tail]);
  }
}
