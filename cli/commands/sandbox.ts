import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { todayUtc } from '../../lib/dates.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import type { LevelWithSilent } from 'pino';
import { listen } from '../../lib/server/listen.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { metricsTokenFromEnv } from '../../lib/server/metrics-endpoint.js';
import { buildSandbox, isPlatform, PLATFORMS, sandboxBaseUrl } from '../../sandboxes/registry.js';
import {
  createWebhookEmitter,
  DEMO_WEBHOOK_SECRETS,
  sandboxEventRoute,
} from '../../sandboxes/webhooks/index.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { sandboxEnv } from '../command-env.js';
import { platformNamed } from '../../platforms/registry.js';
import { onShutdown } from '../shutdown.js';
import { UsageError } from '../usage.js';

/** `sandbox <platform>`: one platform sandbox alone, with the same seeded data as in `start`. */
export async function sandboxCommand(platform: string, level: LevelWithSilent): Promise<undefined> {
  if (!isPlatform(platform))
    throw new UsageError(`unknown platform "${platform}"; expected one of ${PLATFORMS.join(', ')}`);
  const env = loadEnv(catalog, sandboxEnv(platform));
  const http = httpLimitsFromEnv();
  const metricsToken = metricsTokenFromEnv();
  const logger: Logger = createLogger({ name: `sandbox:${platform}`, level });
  const world = generateWorld({
    seed: env.SANDBOX_SEED,
    customers: env.SANDBOX_CUSTOMERS,
    anchorDate: env.SANDBOX_ANCHOR_DATE ?? todayUtc(),
  });
  // Only `POST /__sandbox/webhooks` here: no live traffic, whose kinds span every platform.
  const emitter = createWebhookEmitter({
    world,
    ...(env.SANDBOX_WEBHOOK_TARGET ? { target: { gatewayOrigin: env.SANDBOX_WEBHOOK_TARGET } } : {}),
    secrets: DEMO_WEBHOOK_SECRETS,
    perMinute: 1,
    logger: logger.child({ component: 'webhooks' }),
  });
  const sandbox = await buildSandbox(platform, {
    world,
    logger,
    rateLimits: env.SANDBOX_RATE_LIMITS,
    latencyMs: env.SANDBOX_LATENCY_MS,
    adminRoutes: [sandboxEventRoute(platform, world, emitter)],
    ...(metricsToken ? { metricsToken } : {}),
  });
  const port = (env as Record<string, unknown>)[platformNamed(platform).sandbox.portVariable] as number;
  const listening = await listen(sandbox.server, port, env.HOST, http);
  logger.info(
    { baseUrl: sandboxBaseUrl(platform, listening.origin), customers: world.customers.length },
    'sandbox listening',
  );
  onShutdown(logger, async () => {
    await emitter.stop();
    await listening.close();
  });
  return undefined;
}
