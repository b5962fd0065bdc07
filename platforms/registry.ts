import { hubspot } from './hubspot/index.js';
import type { WebhookSource } from './kit/descriptor.js';
import { mailchimp } from './mailchimp/index.js';
import { meta } from './meta/index.js';
import { shopify } from './shopify/index.js';
import { site } from './site/index.js';
import { twilio } from './twilio/index.js';

/**
 * Every platform, by its descriptor (`platforms/<name>/index.ts`): the one list the gateway, the
 * CLI, the catalog and the docs read. A new platform is a folder and a line here.
 */
export const PLATFORMS = [hubspot, mailchimp, shopify, meta, twilio] as const;

export type PlatformDescriptors = (typeof PLATFORMS)[number];
export type PlatformName = PlatformDescriptors['name'];
export const PLATFORM_NAMES: readonly PlatformName[] = PLATFORMS.map((platform) => platform.name);

export function isPlatformName(value: string): value is PlatformName {
  return (PLATFORM_NAMES as readonly string[]).includes(value);
}

export function platformNamed<N extends PlatformName>(name: N): Extract<PlatformDescriptors, { name: N }> {
  // The names are unique (a test says so); find cannot narrow by them.
  return PLATFORMS.find((platform) => platform.name === name) as Extract<PlatformDescriptors, { name: N }>;
}

/** Every source of webhooks: the platforms' that send them, and the company site's. */
export const WEBHOOK_SOURCES = [
  ...PLATFORMS.flatMap((platform) => (platform.webhooks ? [platform.webhooks] : [])),
  site,
] as const;

/** The sources' names, for a schema (`z.enum`) that accepts only them. */
export const EVENT_SOURCE_NAMES = WEBHOOK_SOURCES.map((source) => source.name) as [
  EventSourceName,
  ...EventSourceName[],
];

type Sources =
  | typeof hubspot.webhooks
  | typeof mailchimp.webhooks
  | typeof shopify.webhooks
  | typeof twilio.webhooks
  | typeof site;
export type EventSourceName = NonNullable<Sources>['name'];

/** The secrets each webhook source is verified with; a source without secrets is not served. */
export type WebhookSecrets = {
  [S in NonNullable<Sources> as S['name']]?: S extends WebhookSource<string, infer T> ? T : never;
};

/** Each platform's account plan (limits that differ by customer), for its sandbox and client alike. */
export type PlatformPlans = {
  [P in PlatformDescriptors as P['name']]?: Parameters<P['sandbox']['create']>[1];
};

/** A sync destination and the platform it writes to (whose `sandbox.connection` or config reaches it). */
export interface SyncTarget {
  platform: PlatformDescriptors;
  destination: NonNullable<PlatformDescriptors['sync']>;
}

/** Every sync destination, by its type in a sync definition (`mailchimp-audience`, …). */
export const SYNC_TARGETS: ReadonlyMap<string, SyncTarget> = new Map(
  PLATFORMS.flatMap((platform) =>
    platform.sync ? [[platform.sync.type, { platform, destination: platform.sync }] as const] : [],
  ),
);
