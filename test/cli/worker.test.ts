import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventsSettingsFromEnv } from '../../events/config.js';
import { startEventPipeline } from '../../events/runtime.js';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { ConfigError } from '../../lib/config/env.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import { createLogger } from '../../lib/logger.js';

/**
 * The embedded SQLite log has one writer, the gateway, and tells only its own process about
 * deliveries: workers need the Redis log. Every way of asking for a worker on SQLite is refused
 * with a sentence naming the variable, before anything is opened.
 */
const SHARED_LOG_NEEDED = 'needs EVENT_LOG=redis (with REDIS_URL)';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('the worker role on the embedded SQLite log', () => {
  it('should refuse to start a worker, with exit code 2 and what to change', async () => {
    const { privateJwk } = await generateGatewayKeys();
    const { code, stderr } = await cli(['worker'], {
      EVENT_LOG: 'sqlite',
      GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(privateJwk),
      WORKER_PORT: '0',
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`EVENT_LOG: the worker ${SHARED_LOG_NEEDED}`);
    expect(stderr).toContain('leave BACKGROUND_JOBS=gateway');
    expect(stderr).not.toContain('    at ');
  });

  it('should refuse a gateway configured to leave its jobs to workers', () => {
    expect(() => eventsSettingsFromEnv({ BACKGROUND_JOBS: 'worker' })).toThrow(ConfigError);
    expect(() => eventsSettingsFromEnv({ BACKGROUND_JOBS: 'worker' })).toThrow(
      `BACKGROUND_JOBS=worker ${SHARED_LOG_NEEDED}`,
    );
    expect(
      eventsSettingsFromEnv({
        BACKGROUND_JOBS: 'worker',
        EVENT_LOG: 'redis',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }),
    ).toMatchObject({ backgroundJobs: 'worker', log: { kind: 'redis' } });
    expect(eventsSettingsFromEnv({})).toMatchObject({
      backgroundJobs: 'gateway',
      processor: { visibilityMs: 30_000 },
    });
  });

  it('should refuse it in the pipeline too, for embedders that build the config themselves', async () => {
    const logger = createLogger({ name: 'worker-test', level: 'silent' });
    const log = openSqliteEventLog({ file: ':memory:', logger });
    try {
      await expect(
        startEventPipeline({
          config: {
            log,
            webhooks: {},
            routingRules: [],
            retention: { maxAgeMs: 86_400_000, maxEvents: 1_000 },
            backgroundJobs: 'worker',
          },
          readGraph: async () => ({ data: null }),
          invalidate: async () => undefined,
          logger,
        }),
      ).rejects.toThrow(SHARED_LOG_NEEDED);
    } finally {
      await log.close();
    }
  });
});
