import { coreCatalog } from '../lib/config/catalog.js';
import { hubspotConfig } from './hubspot/config.js';
import { mailchimpConfig } from './mailchimp/config.js';
import { metaConfig } from './meta/config.js';
import { shopifyConfig } from './shopify/config.js';
import { siteConfig } from './site/config.js';
import { twilioConfig } from './twilio/config.js';

/**
 * Every environment variable the product reads, in one place: the shared ones
 * (lib/config/catalog.ts) and each platform's own, from its folder. The README's configuration
 * table is generated from this object (`npm run docs:readme`).
 */
export const catalog = {
  ...coreCatalog,
  ...siteConfig,
  ...hubspotConfig,
  ...mailchimpConfig,
  ...shopifyConfig,
  ...metaConfig,
  ...twilioConfig,
} as const;

export type CatalogName = keyof typeof catalog;
