import { catalog } from '../../lib/config/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { todayUtc } from '../../lib/dates.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import type { LevelWithSilent } from 'pino';
import { listen } from '../../lib/server/listen.js';
import { buildSandbox, isPlatform, PLATFORMS, sandboxBaseUrl } from '../../sandboxes/registry.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { SANDBOX_PORT_VARIABLE, sandboxEnv } from '../command-env.js';
import { onShutdown } from '../shutdown.js';
import { UsageError } from '../usage.js';

/** `sandbox <platform>`: one platform sandbox alone, with the same seeded data as in `start`. */
export async function sandboxCommand(platform: string, level: LevelWithSilent): Promise<undefined> {
  if (!isPlatform(platform))
    throw new UsageError(`unknown platform "${platform}"; expected one of ${PLATFORMS.join(', ')}`);
  const env = loadEnv(catalog, sandboxEnv(platform));
  const logger: Logger = createLogger({ name: `sandbox:${platform}`, level });
  const world = generateWorld({
    seed: env.SANDBOX_SEED,
    customers: env.SANDBOX_CUSTOMERS,
    anchorDate: env.SANDBOX_ANCHOR_DATE ?? todayUtc(),
  });
  const sandbox = buildSandbox(platform, {
    world,
    logger,
    rateLimits: env.SANDBOX_RATE_LIMITS,
    latencyMs: env.SANDBOX_LATENCY_MS,
  });
  const listening = await listen(sandbox.server, env[SANDBOX_PORT_VARIABLE[platform]], env.HOST);
  logger.info(
    { baseUrl: sandboxBaseUrl(platform, listening.origin), customers: world.customers.length },
    'sandbox listening',
  );
  onShutdown(logger, listening.close);
  return undefined;
}
