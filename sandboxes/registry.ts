import type { Platform } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { DEMO_CREDENTIALS } from './demo-credentials.js';
import { createHubSpotSandbox } from './hubspot/index.js';
import { createMailchimpSandbox } from './mailchimp/index.js';
import { createMetaSandbox } from './meta/index.js';
import { createShopifySandbox } from './shopify/index.js';
import { createSandboxServer, type SandboxServer } from './kit/server.js';
import type { FaultInput } from './kit/faults.js';
import type { PlatformSandbox, Route } from './kit/types.js';
import type { World } from './world/world.js';

export const PLATFORMS = ['hubspot', 'mailchimp', 'shopify', 'meta'] as const satisfies readonly Platform[];

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

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
}

/**
 * The limits that differ by a customer's plan with each platform. Defaults are the entry plans:
 * HubSpot Free/Starter 100 per 10 s, Shopify Standard bucket 40 leaking 2/s.
 */
export interface PlatformPlans {
  hubspotPer10s?: number;
  shopifyBucketSize?: number;
  shopifyLeakPerSecond?: number;
}

/** The platform half of a sandbox, wired to the demo credentials (the only ones a sandbox accepts). */
export function platformSandbox(
  platform: Platform,
  world: World,
  plans: PlatformPlans = {},
): PlatformSandbox {
  switch (platform) {
    case 'hubspot':
      return createHubSpotSandbox({
        world,
        accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
        ...(plans.hubspotPer10s !== undefined ? { tenSecondLimit: plans.hubspotPer10s } : {}),
      });
    case 'mailchimp':
      return createMailchimpSandbox({
        world,
        apiKey: DEMO_CREDENTIALS.mailchimp.apiKey,
        listId: DEMO_CREDENTIALS.mailchimp.listId,
      });
    case 'shopify':
      return createShopifySandbox({
        world,
        accessToken: DEMO_CREDENTIALS.shopify.accessToken,
        ...(plans.shopifyBucketSize !== undefined ? { bucketSize: plans.shopifyBucketSize } : {}),
        ...(plans.shopifyLeakPerSecond !== undefined ? { leakPerSecond: plans.shopifyLeakPerSecond } : {}),
      });
    case 'meta':
      return createMetaSandbox({
        world,
        accessToken: DEMO_CREDENTIALS.meta.accessToken,
        adAccountId: DEMO_CREDENTIALS.meta.adAccountId,
      });
  }
}

/** Builds (does not start) the HTTP server of one platform's sandbox. */
export function buildSandbox(platform: Platform, options: SandboxOptions): SandboxServer {
  return createSandboxServer(platformSandbox(platform, options.world, options.plans), {
    logger: options.logger.child({ sandbox: platform }),
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.adminRoutes ? { adminRoutes: options.adminRoutes } : {}),
  });
}

/**
 * The base URL a connector uses to reach a sandbox listening at `origin`: the same shape as the real
 * platform's base URL (Mailchimp's `/3.0`, Shopify's `/admin/api/<version>`, Meta's `/v25.0`).
 */
export function sandboxBaseUrl(platform: Platform, origin: string): string {
  switch (platform) {
    case 'hubspot':
      return origin;
    case 'mailchimp':
      return `${origin}/3.0`;
    case 'shopify':
      return `${origin}/admin/api/${DEMO_CREDENTIALS.shopify.apiVersion}`;
    case 'meta':
      return `${origin}/v25.0`;
  }
}
