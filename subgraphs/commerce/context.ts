import type { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import type { SubgraphContext } from '../kit/context.js';
import type { CommerceLoaders } from './loaders.js';

export interface CommerceContext extends SubgraphContext {
  shopify: ShopifyConnector;
  loaders: CommerceLoaders;
}
