import type { Credential, PlatformDocs, WebhookFlow } from '../../platforms/kit/descriptor.js';
import { PLATFORMS, type PlatformName } from '../../platforms/registry.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';

export type { Credential, LimitRow, WebhookFlow } from '../../platforms/kit/descriptor.js';
export { SITE_WEBHOOK } from '../../platforms/site/index.js';

/**
 * What the data-flow document says about each platform that is not in the SDL: its credentials,
 * the limits it publishes and how the client keeps to them, and the webhooks it pushes. Each
 * platform's descriptor (`platforms/<name>/index.ts`) holds its facts, every number from the code
 * that enforces it; this only reads the registry.
 */
export interface PlatformDoc extends Omit<PlatformDocs, 'subgraph'> {
  platform: PlatformName;
  title: string;
  subgraph: PlatformSubgraphName;
  credential: Credential;
  webhook?: WebhookFlow;
}

export const PLATFORM_DOCS: readonly PlatformDoc[] = PLATFORMS.map((platform) => ({
  platform: platform.name,
  title: platform.title,
  ...platform.docs,
  subgraph: platform.docs.subgraph as PlatformSubgraphName,
  credential: platform.credential,
}));
