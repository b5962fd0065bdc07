import type { Logger } from '../lib/logger.js';
import {
  isPlatformName,
  platformNamed,
  PLATFORM_NAMES,
  type PlatformName,
  type PlatformPlans,
} from '../platforms/registry.js';
import { createSandboxServer, type SandboxServer } from './kit/server.js';
import type { FaultInput } from './kit/faults.js';
import type { PlatformSandbox, Route } from './kit/types.js';
import type { World } from './world/world.js';

export type { PlatformPlans } from '../platforms/registry.js';
/** The platforms with a sandbox (all of them), by name. */
export const PLATFORMS = PLATFORM_NAMES;
export const isPlatform = isPlatformName;

export interface SandboxOptions {
  world: World;
  logger: Logger;
  /** @default true */
  rateLimits?: boolean;
  latencyMs?: number;
  faults?: FaultInput;
  /** Account plans other than the defaults (each platform's entry-level limits). */
  plans?: PlatformPlans;
  /** Extra `/__sandbox/*` endpoints (the webhook emitter's). */
  adminRoutes?: readonly Route[];
  /** Bearer token for `GET /metrics` (METRICS_TOKEN). @default none: `/metrics` answers 403 */
  metricsToken?: string;
}

/** The platform half of a sandbox, from its descriptor: the demo credentials, the plan's limits. */
export function platformSandbox(
  platform: PlatformName,
  world: World,
  plans: PlatformPlans = {},
): Promise<PlatformSandbox> {
  const descriptor = platformNamed(platform);
  // Each descriptor takes its own plan; the name pairs them, which a union call cannot see.
  const create = descriptor.sandbox.create as (world: World, plan?: unknown) => Promise<PlatformSandbox>;
  return create(world, plans[platform]);
}

/** Builds (does not start) the HTTP server of one platform's sandbox. */
export async function buildSandbox(platform: PlatformName, options: SandboxOptions): Promise<SandboxServer> {
  return createSandboxServer(await platformSandbox(platform, options.world, options.plans), {
    logger: options.logger.child({ sandbox: platform }),
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.adminRoutes ? { adminRoutes: options.adminRoutes } : {}),
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
  });
}

/**
 * The base URL a client uses to reach a sandbox listening at `origin`: the same shape as the real
 * platform's base URL (a version prefix where the platform has one).
 */
export function sandboxBaseUrl(platform: PlatformName, origin: string): string {
  return platformNamed(platform).sandbox.baseUrl(origin);
}
