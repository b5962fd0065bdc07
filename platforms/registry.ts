import { hubspot } from './hubspot/index.js';
import type { ActionClientSettings, ActionExecutor, ActionKind, PlatformActions } from './kit/actions.js';
import type { WebhookFlow, WebhookSource } from './kit/descriptor.js';
import { mailchimp } from './mailchimp/index.js';
import { meta } from './meta/index.js';
import { shopify } from './shopify/index.js';
import { SITE_WEBHOOK, site } from './site/index.js';
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

/**
 * What each source says of itself for the docs and the graph (its event types, each described), in
 * the order of `WEBHOOK_SOURCES`: `npm run codegen` writes the canonical vocabulary from these.
 */
export const WEBHOOK_FLOWS: readonly WebhookFlow[] = [
  ...PLATFORMS.flatMap((platform) => (platform.docs.webhook ? [platform.docs.webhook] : [])),
  SITE_WEBHOOK,
];

/** The sources' names, for a schema (`z.enum`) that accepts only them. */
export const EVENT_SOURCE_NAMES = WEBHOOK_SOURCES.map((source) => source.name) as [
  EventSourceName,
  ...EventSourceName[],
];

/** Every source's type, from the platforms' descriptors: a new platform's webhooks join by its line above. */
type Sources = PlatformDescriptors['webhooks'] | typeof site;
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
/** One kind of action, with the platform that runs it: what a routing rule's `actions` entry names. */
export interface RegisteredActionKind extends ActionKind {
  platform: PlatformName;
}

/** Every platform's actions (`platforms/<name>/actions.ts`), for the routing rules' schema. */
export const ACTION_KINDS: readonly RegisteredActionKind[] = PLATFORMS.flatMap((platform) =>
  (platform.actions?.kinds ?? []).map((kind) => ({ ...kind, platform: platform.name })),
);

/** The kind a rule names, or undefined. */
export function actionKind(platform: string, type: string): RegisteredActionKind | undefined {
  return ACTION_KINDS.find((kind) => kind.platform === platform && kind.type === type);
}

/**
 * An executor for each platform given a connection (`connections[name]`, the shape its
 * `sandbox.connection` answers), built from the platform's own client.
 */
export function connectActionExecutors(
  connections: Partial<Record<PlatformName, unknown>>,
  settings: ActionClientSettings,
): Partial<Record<PlatformName, ActionExecutor>> {
  const out: Partial<Record<PlatformName, ActionExecutor>> = {};
  for (const platform of PLATFORMS) {
    const connection = connections[platform.name];
    const actions = platform.actions as PlatformActions | undefined;
    if (connection === undefined || !actions) continue;
    out[platform.name] = actions.connect(connection, {
      ...settings,
      logger: settings.logger.child({ platform: platform.name }),
    });
  }
  return out;
}

/** Each platform's connection to its sandbox at `origins[name]`, with the plan it was given. */
export function sandboxConnections(
  origins: Partial<Record<PlatformName, string>>,
  plans: PlatformPlans = {},
): Partial<Record<PlatformName, unknown>> {
  const out: Partial<Record<PlatformName, unknown>> = {};
  for (const platform of PLATFORMS) {
    const origin = origins[platform.name];
    if (origin === undefined) continue;
    const sandbox = platform.sandbox as { connection(origin: string, plan?: unknown): unknown };
    out[platform.name] = sandbox.connection(origin, plans[platform.name]);
  }
  return out;
}
