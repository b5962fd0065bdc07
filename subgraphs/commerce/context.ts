import type { ShopifyConnector } from '../../connectors/shopify/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { CommerceLoaders } from './loaders.js';

export interface CommerceContext extends SubgraphContext {
  shopify: ShopifyConnector;
  loaders: CommerceLoaders;
}
