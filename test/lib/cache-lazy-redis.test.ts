import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Redis client (@keyv/redis, @redis/client: some 1,300 modules) loads only when a store is
 * given a Redis URL: a gateway with the in-memory store never holds it (issue 17, peak memory).
 * Each case runs in a process of its own, so no other test's imports count.
 */

const root = join(import.meta.dirname, '..', '..');

function redisLoadedAfter(redisUrl: string | undefined): boolean {
  const script = `
    import { createRequire } from 'node:module';
    import { createCacheStore } from './lib/cache/store.ts';
    const store = createCacheStore({ ${redisUrl ? `redisUrl: ${JSON.stringify(redisUrl)}, ` : ''}maxEntries: 10, logger: { warn() {} } });
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/@redis/client/'));
    await store.close();
    process.stdout.write(JSON.stringify({ kind: store.kind, loaded }));
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
    timeout: 60_000,
  });
  expect(result.stderr).toBe('');
  const answer = JSON.parse(result.stdout) as { kind: string; loaded: boolean };
  expect(answer.kind).toBe(redisUrl ? 'redis' : 'memory');
  return answer.loaded;
}

describe('the cache store without Redis', () => {
  it('should not load the Redis client for the in-memory store, and load it for a Redis URL', () => {
    expect(redisLoadedAfter(undefined)).toBe(false);
    // Never connected (the store connects on its first operation): loading is what is checked.
    expect(redisLoadedAfter('redis://127.0.0.1:1')).toBe(true);
  });
});
