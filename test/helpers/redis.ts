/**
 * Redis-backed tests run when REDIS_URL is set (`.ci/run` sets it and makes sure Redis answers).
 * Without it they are reported as skipped, and the title says why.
 */
export const REDIS_URL = process.env['REDIS_URL'];
export const redisSuite = (name: string) => (REDIS_URL ? name : `${name} (skipped: REDIS_URL is not set)`);
/** A port nothing listens on, for "Redis is down" tests. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6399';
