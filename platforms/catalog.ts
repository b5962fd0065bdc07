import { coreCatalog } from '../lib/config/catalog.js';
import { PLATFORMS, type PlatformDescriptors } from './registry.js';
import { siteConfig } from './site/config.js';

/** Every platform's own variables as one object type: the intersection of the descriptors' `config`. */
type PlatformConfigs = (PlatformDescriptors['config'] extends infer U
  ? (U extends unknown ? (entries: U) => void : never) extends (entries: infer I) => void
    ? I
    : never
  : never) &
  object;

/**
 * Every environment variable the product reads, in one place: the shared ones
 * (lib/config/catalog.ts), the company site's, and each platform's own, from its descriptor's
 * `config` in registry order (a new platform's join by its registry line). The README's
 * configuration table is generated from this object (`npm run docs:readme`).
 */
export const catalog = {
  ...coreCatalog,
  ...siteConfig,
  ...(Object.assign({}, ...PLATFORMS.map((platform) => platform.config)) as PlatformConfigs),
} as const;

export type CatalogName = keyof typeof catalog;
