import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisScript, runScript } from '../../lib/redis/scripts.js';
import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

/**
 * The Redis stores run their Lua scripts by SHA-1 and send the source only when Redis does not have
 * it (NOSCRIPT): after a Redis restart or SCRIPT FLUSH a script must still run, once, from source.
 */
describe.runIf(REDIS_URL)(redisSuite('a Redis script run by its SHA-1'), () => {
  let client: RedisClient;
  const key = `test-redis-scripts-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    client = await connectSharedRedis({ url: REDIS_URL ?? '' });
  });
  afterAll(async () => {
    await client?.sendCommand(['DEL', key]);
    await client?.quit();
  });

  it('should send the source when Redis does not know the script, then run it by SHA-1 alone', async () => {
    // A source of its own (the comment), so no other test's run has cached it.
    const script = new RedisScript(`-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(await client.sendCommand(['SCRIPT', 'EXISTS', script.sha])).toEqual([0]);

    expect(await runScript(client, script, [key], ['2'])).toBe(2);
    expect(await client.sendCommand(['SCRIPT', 'EXISTS', script.sha])).toEqual([1]);
    expect(await runScript(client, script, [key], ['3'])).toBe(5);
  });

  it("should pass on the script's own errors, not run it again from source", async () => {
    const script = new RedisScript(
      `-- ${randomUUID()}\nredis.call('INCR', KEYS[1])\nreturn redis.error_reply('REFUSED by the script')`,
    );
    await client.sendCommand(['SET', key, '0']);
    await expect(runScript(client, script, [key], [])).rejects.toThrow(/REFUSED by the script/);
    // EVALSHA failed with NOSCRIPT and EVAL ran once: one increment, not two.
    expect(await client.sendCommand(['GET', key])).toBe('1');
  });
});
